;; Max-pooling over 2×2 windows at stride 2 (norm-pool.ts has the twin), four outputs at a time, over
;; buffers in the shared arena (arena.ts). Each window's maximum and the index of the value it came
;; from (ties to the first in row order, and −1 when no value beats −∞, as the twin's strict >), then
;; the backward pass's gradient: windows do not overlap, so each input gets its window's gradient
;; where it was the maximum and 0 elsewhere, every value written once. Indices are the floats'
;; positions in the input volume; pointers are byte addresses.
(module
  (import "env" "memory" (memory 1 65536 shared))

  ;; Even and odd lanes of eight floats from $at, as two vectors.
  (func $split (param $at i32) (result v128 v128)
    (local $p v128) (local $q v128)
    (local.set $p (v128.load (local.get $at)))
    (local.set $q (v128.load offset=16 (local.get $at)))
    (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $p) (local.get $q))
    (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $p) (local.get $q)))

  ;; Input rows 2·oy and 2·oy + 1 of planes [$from, $to) (h × w, even, w a multiple of 8) of the volume
  ;; at $x: the maxima to $out and their indices to $argmax (the pooled volume's layout), plane after plane.
  (func (export "maxPool2x2") (param $x i32) (param $from i32) (param $to i32) (param $h i32) (param $w i32) (param $out i32) (param $argmax i32)
    (local $row i32) (local $rows i32) (local $col i32) (local $top i32) (local $rowBytes i32)
    (local $best v128) (local $at v128) (local $v v128) (local $idx v128) (local $better v128)
    (local $a0 v128) (local $a1 v128) (local $b0 v128) (local $b1 v128)
    (local.set $rowBytes (i32.shl (local.get $w) (i32.const 2)))
    ;; Row pairs over the planes: h/2 per plane, each w/2 outputs.
    (local.set $row (i32.mul (local.get $from) (i32.shr_u (local.get $h) (i32.const 1))))
    (local.set $rows (i32.mul (local.get $to) (i32.shr_u (local.get $h) (i32.const 1))))
    (local.set $out (i32.add (local.get $out) (i32.mul (local.get $row) (i32.shr_u (local.get $rowBytes) (i32.const 1)))))
    (local.set $argmax (i32.add (local.get $argmax) (i32.mul (local.get $row) (i32.shr_u (local.get $rowBytes) (i32.const 1)))))
    (loop $rowPairs
      (local.set $top (i32.add (local.get $x) (i32.mul (local.get $row) (i32.shl (local.get $rowBytes) (i32.const 1)))))
      (local.set $col (i32.const 0))
      (loop $fours
        (call $split (i32.add (local.get $top) (i32.shl (local.get $col) (i32.const 2))))
        (local.set $a1) (local.set $a0)
        (call $split (i32.add (i32.add (local.get $top) (local.get $rowBytes)) (i32.shl (local.get $col) (i32.const 2))))
        (local.set $b1) (local.set $b0)
        ;; Index of the window's top-left value, for each of the four outputs.
        (local.set $idx (i32x4.add (i32x4.splat (i32.shr_u (i32.sub (i32.add (local.get $top) (i32.shl (local.get $col) (i32.const 2))) (local.get $x)) (i32.const 2)))
          (v128.const i32x4 0 2 4 6)))
        (local.set $best (v128.const f32x4 -inf -inf -inf -inf))
        (local.set $at (v128.const i32x4 -1 -1 -1 -1))
        (local.set $better (f32x4.gt (local.get $a0) (local.get $best)))
        (local.set $best (v128.bitselect (local.get $a0) (local.get $best) (local.get $better)))
        (local.set $at (v128.bitselect (local.get $idx) (local.get $at) (local.get $better)))
        (local.set $better (f32x4.gt (local.get $a1) (local.get $best)))
        (local.set $best (v128.bitselect (local.get $a1) (local.get $best) (local.get $better)))
        (local.set $at (v128.bitselect (i32x4.add (local.get $idx) (v128.const i32x4 1 1 1 1)) (local.get $at) (local.get $better)))
        (local.set $idx (i32x4.add (local.get $idx) (i32x4.splat (local.get $w))))
        (local.set $better (f32x4.gt (local.get $b0) (local.get $best)))
        (local.set $best (v128.bitselect (local.get $b0) (local.get $best) (local.get $better)))
        (local.set $at (v128.bitselect (local.get $idx) (local.get $at) (local.get $better)))
        (local.set $better (f32x4.gt (local.get $b1) (local.get $best)))
        (local.set $best (v128.bitselect (local.get $b1) (local.get $best) (local.get $better)))
        (local.set $at (v128.bitselect (i32x4.add (local.get $idx) (v128.const i32x4 1 1 1 1)) (local.get $at) (local.get $better)))
        (v128.store (local.get $out) (local.get $best))
        (v128.store (local.get $argmax) (local.get $at))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (local.set $argmax (i32.add (local.get $argmax) (i32.const 16)))
        (br_if $fours (i32.lt_u (local.tee $col (i32.add (local.get $col) (i32.const 8))) (local.get $w))))
      (br_if $rowPairs (i32.lt_u (local.tee $row (i32.add (local.get $row) (i32.const 1))) (local.get $rows)))))

  ;; The backward pass: ∂x (same layout as the input at $dx) from ∂y at $dy and the indices at $argmax.
  (func (export "maxPool2x2Backward") (param $dy i32) (param $argmax i32) (param $from i32) (param $to i32) (param $h i32) (param $w i32) (param $dx i32)
    (local $row i32) (local $rows i32) (local $col i32) (local $top i32) (local $rowBytes i32)
    (local $g v128) (local $at v128) (local $idx v128) (local $e v128) (local $o v128)
    (local.set $rowBytes (i32.shl (local.get $w) (i32.const 2)))
    (local.set $row (i32.mul (local.get $from) (i32.shr_u (local.get $h) (i32.const 1))))
    (local.set $rows (i32.mul (local.get $to) (i32.shr_u (local.get $h) (i32.const 1))))
    (local.set $dy (i32.add (local.get $dy) (i32.mul (local.get $row) (i32.shr_u (local.get $rowBytes) (i32.const 1)))))
    (local.set $argmax (i32.add (local.get $argmax) (i32.mul (local.get $row) (i32.shr_u (local.get $rowBytes) (i32.const 1)))))
    (loop $rowPairs
      (local.set $top (i32.mul (local.get $row) (i32.shl (local.get $rowBytes) (i32.const 1))))
      (local.set $col (i32.const 0))
      (loop $fours
        (local.set $g (v128.load (local.get $dy)))
        (local.set $at (v128.load (local.get $argmax)))
        (local.set $idx (i32x4.add (i32x4.splat (i32.shr_u (i32.add (local.get $top) (i32.shl (local.get $col) (i32.const 2))) (i32.const 2)))
          (v128.const i32x4 0 2 4 6)))
        ;; g where the window's maximum was this value, else 0; + 0 turns −0 into 0 as the twin's 0 + g does.
        (local.set $e (f32x4.add (v128.and (local.get $g) (i32x4.eq (local.get $at) (local.get $idx))) (v128.const f32x4 0 0 0 0)))
        (local.set $o (f32x4.add (v128.and (local.get $g) (i32x4.eq (local.get $at) (i32x4.add (local.get $idx) (v128.const i32x4 1 1 1 1)))) (v128.const f32x4 0 0 0 0)))
        (call $interleave (i32.add (local.get $dx) (i32.add (local.get $top) (i32.shl (local.get $col) (i32.const 2)))) (local.get $e) (local.get $o))
        (local.set $idx (i32x4.add (local.get $idx) (i32x4.splat (local.get $w))))
        (local.set $e (f32x4.add (v128.and (local.get $g) (i32x4.eq (local.get $at) (local.get $idx))) (v128.const f32x4 0 0 0 0)))
        (local.set $o (f32x4.add (v128.and (local.get $g) (i32x4.eq (local.get $at) (i32x4.add (local.get $idx) (v128.const i32x4 1 1 1 1)))) (v128.const f32x4 0 0 0 0)))
        (call $interleave (i32.add (i32.add (local.get $dx) (local.get $rowBytes)) (i32.add (local.get $top) (i32.shl (local.get $col) (i32.const 2))))
          (local.get $e) (local.get $o))
        (local.set $dy (i32.add (local.get $dy) (i32.const 16)))
        (local.set $argmax (i32.add (local.get $argmax) (i32.const 16)))
        (br_if $fours (i32.lt_u (local.tee $col (i32.add (local.get $col) (i32.const 8))) (local.get $w))))
      (br_if $rowPairs (i32.lt_u (local.tee $row (i32.add (local.get $row) (i32.const 1))) (local.get $rows)))))

  ;; Eight floats to $at: even lanes from $e, odd ones from $o.
  (func $interleave (param $at i32) (param $e v128) (param $o v128)
    (v128.store (local.get $at) (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $e) (local.get $o)))
    (v128.store offset=16 (local.get $at) (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $e) (local.get $o))))
)
