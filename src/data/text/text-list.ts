/** The texts of one split, with their ids and, when the source has them, labels. */
export interface TextList {
  /** What to call it in messages: the file, the folder or the built-in name. */
  source: string;
  texts: string[];
  ids: string[];
  labels?: string[];
}

/** A corpus: one split, or train and test. */
export interface TextSplits {
  train: TextList;
  test?: TextList;
}
