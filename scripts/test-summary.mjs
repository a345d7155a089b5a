// A node:test reporter that prints one closing line counting the tests that passed and failed,
// so a CI log ends with the verdict (the dot reporter beside it shows the failures themselves).
export default async function* summary(source) {
  let passed = 0,
    failed = 0,
    skipped = 0;
  for await (const event of source) {
    // Suites report too; count the tests inside them (leaf tests have no `details.type`).
    if (event.type === "test:pass" && event.data.details?.type !== "suite") {
      if (event.data.skip || event.data.todo) skipped++;
      else passed++;
    } else if (event.type === "test:fail" && event.data.details?.type !== "suite") failed++;
  }
  yield `\ntests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}\n`;
}
