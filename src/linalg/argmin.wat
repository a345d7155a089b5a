;; The smallest value of each row of a rows×cols float32 block and the first column holding it,
;; folded into running results: where the row's minimum is below values[i], values[i] takes it
;; and indices[i] = offset + its column. Four lanes at a time (lane l sees the columns ≡ l mod 4
;; and keeps its first minimum), then the lanes are merged, the lowest column first among equal
;; values; the columns past the last multiple of 4 are scanned one by one. NaN is never chosen
;; (every comparison with it is false), as in the scalar loop this replaces.
(module
  (import "env" "memory" (memory 1))
  (func (export "argmin")
    (param $block i32) (param $rows i32) (param $cols i32) (param $values i32) (param $indices i32) (param $offset i32)
    (local $row i32) (local $j i32) (local $vectorEnd i32) (local $at i32)
    (local $best v128) (local $bestIndex v128) (local $index v128) (local $v v128) (local $less v128)
    (local $min f32) (local $minIndex i32) (local $x f32) (local $i i32)
    (local.set $vectorEnd (i32.and (local.get $cols) (i32.const -4)))
    (block $rowsDone
      (loop $nextRow
        (br_if $rowsDone (i32.ge_u (local.get $row) (local.get $rows)))
        (local.set $at (i32.add (local.get $block) (i32.shl (i32.mul (local.get $row) (local.get $cols)) (i32.const 2))))
        ;; The value carried in from earlier blocks (lower columns): only a strictly smaller one replaces it.
        (local.set $min (f32.load (i32.add (local.get $values) (i32.shl (local.get $row) (i32.const 2)))))
        (local.set $minIndex (i32.const -1))
        (if (i32.gt_u (local.get $vectorEnd) (i32.const 0))
          (then
            (local.set $best (f32x4.splat (f32.const inf)))
            (local.set $bestIndex (v128.const i32x4 -1 -1 -1 -1))
            (local.set $index (v128.const i32x4 0 1 2 3))
            (local.set $j (i32.const 0))
            (block $vectorDone
              (loop $nextVector
                (br_if $vectorDone (i32.ge_u (local.get $j) (local.get $vectorEnd)))
                (local.set $v (v128.load (i32.add (local.get $at) (i32.shl (local.get $j) (i32.const 2)))))
                (local.set $less (f32x4.lt (local.get $v) (local.get $best)))
                (local.set $best (v128.bitselect (local.get $v) (local.get $best) (local.get $less)))
                (local.set $bestIndex (v128.bitselect (local.get $index) (local.get $bestIndex) (local.get $less)))
                (local.set $index (i32x4.add (local.get $index) (v128.const i32x4 4 4 4 4)))
                (local.set $j (i32.add (local.get $j) (i32.const 4)))
                (br $nextVector)))
            ;; Merge the lanes (a lane that saw only NaN or +inf has index −1 and never wins).
            (local.set $x (f32x4.extract_lane 0 (local.get $best)))
            (local.set $i (i32x4.extract_lane 0 (local.get $bestIndex)))
            (if (i32.and (i32.ge_s (local.get $i) (i32.const 0))
                         (i32.or (f32.lt (local.get $x) (local.get $min))
                                 (i32.and (f32.eq (local.get $x) (local.get $min))
                                          (i32.and (i32.ge_s (local.get $minIndex) (i32.const 0)) (i32.lt_s (local.get $i) (local.get $minIndex))))))
              (then
                (local.set $min (local.get $x))
                (local.set $minIndex (local.get $i))))
            (local.set $x (f32x4.extract_lane 1 (local.get $best)))
            (local.set $i (i32x4.extract_lane 1 (local.get $bestIndex)))
            (if (i32.and (i32.ge_s (local.get $i) (i32.const 0))
                         (i32.or (f32.lt (local.get $x) (local.get $min))
                                 (i32.and (f32.eq (local.get $x) (local.get $min))
                                          (i32.and (i32.ge_s (local.get $minIndex) (i32.const 0)) (i32.lt_s (local.get $i) (local.get $minIndex))))))
              (then
                (local.set $min (local.get $x))
                (local.set $minIndex (local.get $i))))
            (local.set $x (f32x4.extract_lane 2 (local.get $best)))
            (local.set $i (i32x4.extract_lane 2 (local.get $bestIndex)))
            (if (i32.and (i32.ge_s (local.get $i) (i32.const 0))
                         (i32.or (f32.lt (local.get $x) (local.get $min))
                                 (i32.and (f32.eq (local.get $x) (local.get $min))
                                          (i32.and (i32.ge_s (local.get $minIndex) (i32.const 0)) (i32.lt_s (local.get $i) (local.get $minIndex))))))
              (then
                (local.set $min (local.get $x))
                (local.set $minIndex (local.get $i))))
            (local.set $x (f32x4.extract_lane 3 (local.get $best)))
            (local.set $i (i32x4.extract_lane 3 (local.get $bestIndex)))
            (if (i32.and (i32.ge_s (local.get $i) (i32.const 0))
                         (i32.or (f32.lt (local.get $x) (local.get $min))
                                 (i32.and (f32.eq (local.get $x) (local.get $min))
                                          (i32.and (i32.ge_s (local.get $minIndex) (i32.const 0)) (i32.lt_s (local.get $i) (local.get $minIndex))))))
              (then
                (local.set $min (local.get $x))
                (local.set $minIndex (local.get $i))))
))
        (local.set $j (local.get $vectorEnd))
        (block $tailDone
          (loop $nextTail
            (br_if $tailDone (i32.ge_u (local.get $j) (local.get $cols)))
            (local.set $x (f32.load (i32.add (local.get $at) (i32.shl (local.get $j) (i32.const 2)))))
            (if (f32.lt (local.get $x) (local.get $min))
              (then
                (local.set $min (local.get $x))
                (local.set $minIndex (local.get $j))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $nextTail)))
        (if (i32.ge_s (local.get $minIndex) (i32.const 0))
          (then
            (f32.store (i32.add (local.get $values) (i32.shl (local.get $row) (i32.const 2))) (local.get $min))
            (i32.store (i32.add (local.get $indices) (i32.shl (local.get $row) (i32.const 2)))
              (i32.add (local.get $offset) (local.get $minIndex)))))
        (local.set $row (i32.add (local.get $row) (i32.const 1)))
        (br $nextRow)))))
