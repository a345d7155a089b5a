;; Batch gathering for training: copy `count` rows of `rowBytes` bytes each, row i being source
;; row order[i], from `src` to consecutive rows at `dst`. One bulk memory.copy per row, so a batch
;; costs no JavaScript loop and no allocation.
(module
  (import "env" "memory" (memory 1))
  (func (export "gather")
    (param $dst i32) (param $src i32) (param $order i32) (param $count i32) (param $rowBytes i32)
    (local $i i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $count)))
        (memory.copy
          (i32.add (local.get $dst) (i32.mul (local.get $i) (local.get $rowBytes)))
          (i32.add (local.get $src)
            (i32.mul (i32.load (i32.add (local.get $order) (i32.shl (local.get $i) (i32.const 2)))) (local.get $rowBytes)))
          (local.get $rowBytes))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))))
