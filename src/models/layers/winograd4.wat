;; Winograd F(4×4, 3×3)'s four transforms (winograd4.ts has their literal twins), four tiles at a
;; time in float32 lanes, over buffers in the shared arena (arena.ts).
;; - Each call takes $n whole images of one channel. Their tiles are consecutive in the planes, so
;;   a group of four tiles may span tile rows and images: each lane has its own address, which is
;;   what lets 8×8 and 4×4 images (2 × 2 tiles, and 1) fill all four lanes.
;; - The input and its gradient go through zero-padded copies of the images in $scratch (4·th + 2
;;   rows of 4·tw + 4 floats, from $scratch + 640): every tile then reads, or adds, a whole 6×6
;;   block without a bounds check, and a tile's eight-float rows stay inside its padded row. The
;;   outputs and their gradients do the same through 4·th × 4·tw blocks when the output size is
;;   not a multiple of 4, and work in place when it is.
;; - $scratch's first 576 bytes hold a group's 36 intermediate vectors between its two passes.
;; - A last group of fewer than four tiles computes all four lanes but stores only its own.
;; Pointers are byte addresses; $plane is the distance between planes in bytes.
(module
  (import "env" "memory" (memory 1 65536 shared))

  ;; Bᵀ x, for the input: Lavin and Gray's Bᵀ = [4 0 −5 0 1 0; 0 −4 −4 1 1 0; 0 4 −4 −1 1 0;
  ;; 0 −2 −1 2 1 0; 0 2 −1 −2 1 0; 0 4 0 −5 0 1].
  (func $bt (param $x0 v128) (param $x1 v128) (param $x2 v128) (param $x3 v128) (param $x4 v128) (param $x5 v128)
    (result v128 v128 v128 v128 v128 v128)
    (local $p v128) (local $q v128) (local $r v128) (local $s v128)
    (local.set $p (f32x4.sub (local.get $x4) (f32x4.mul (local.get $x2) (v128.const f32x4 4 4 4 4))))
    (local.set $q (f32x4.sub (local.get $x3) (f32x4.mul (local.get $x1) (v128.const f32x4 4 4 4 4))))
    (local.set $r (f32x4.sub (local.get $x4) (local.get $x2)))
    (local.set $s (f32x4.mul (f32x4.sub (local.get $x3) (local.get $x1)) (v128.const f32x4 2 2 2 2)))
    (f32x4.add (f32x4.sub (f32x4.mul (local.get $x0) (v128.const f32x4 4 4 4 4)) (f32x4.mul (local.get $x2) (v128.const f32x4 5 5 5 5))) (local.get $x4))
    (f32x4.add (local.get $p) (local.get $q))
    (f32x4.sub (local.get $p) (local.get $q))
    (f32x4.add (local.get $r) (local.get $s))
    (f32x4.sub (local.get $r) (local.get $s))
    (f32x4.add (f32x4.sub (f32x4.mul (local.get $x1) (v128.const f32x4 4 4 4 4)) (f32x4.mul (local.get $x3) (v128.const f32x4 5 5 5 5))) (local.get $x5)))

  ;; B x, its transpose, for the input's gradient.
  (func $b (param $v0 v128) (param $v1 v128) (param $v2 v128) (param $v3 v128) (param $v4 v128) (param $v5 v128)
    (result v128 v128 v128 v128 v128 v128)
    (local $d12 v128) (local $s12 v128) (local $d34 v128) (local $s34 v128)
    (local.set $d12 (f32x4.sub (local.get $v2) (local.get $v1)))
    (local.set $s12 (f32x4.add (local.get $v1) (local.get $v2)))
    (local.set $d34 (f32x4.sub (local.get $v4) (local.get $v3)))
    (local.set $s34 (f32x4.add (local.get $v3) (local.get $v4)))
    (f32x4.mul (local.get $v0) (v128.const f32x4 4 4 4 4))
    (f32x4.add (f32x4.add (f32x4.mul (local.get $d12) (v128.const f32x4 4 4 4 4)) (f32x4.mul (local.get $d34) (v128.const f32x4 2 2 2 2)))
      (f32x4.mul (local.get $v5) (v128.const f32x4 4 4 4 4)))
    (f32x4.sub (f32x4.neg (f32x4.add (f32x4.mul (local.get $v0) (v128.const f32x4 5 5 5 5)) (f32x4.mul (local.get $s12) (v128.const f32x4 4 4 4 4))))
      (local.get $s34))
    (f32x4.sub (f32x4.neg (f32x4.add (local.get $d12) (f32x4.mul (local.get $d34) (v128.const f32x4 2 2 2 2))))
      (f32x4.mul (local.get $v5) (v128.const f32x4 5 5 5 5)))
    (f32x4.add (f32x4.add (local.get $v0) (local.get $s12)) (local.get $s34))
    (local.get $v5))

  ;; Aᵀ x, for the output: Aᵀ = [1 1 1 1 1 0; 0 1 −1 2 −2 0; 0 1 1 4 4 0; 0 1 −1 8 −8 1].
  (func $at (param $x0 v128) (param $x1 v128) (param $x2 v128) (param $x3 v128) (param $x4 v128) (param $x5 v128)
    (result v128 v128 v128 v128)
    (local $s v128) (local $d v128) (local $S v128) (local $D v128)
    (local.set $s (f32x4.add (local.get $x1) (local.get $x2)))
    (local.set $d (f32x4.sub (local.get $x1) (local.get $x2)))
    (local.set $S (f32x4.add (local.get $x3) (local.get $x4)))
    (local.set $D (f32x4.sub (local.get $x3) (local.get $x4)))
    (f32x4.add (f32x4.add (local.get $x0) (local.get $s)) (local.get $S))
    (f32x4.add (local.get $d) (f32x4.mul (local.get $D) (v128.const f32x4 2 2 2 2)))
    (f32x4.add (local.get $s) (f32x4.mul (local.get $S) (v128.const f32x4 4 4 4 4)))
    (f32x4.add (f32x4.add (local.get $d) (f32x4.mul (local.get $D) (v128.const f32x4 8 8 8 8))) (local.get $x5)))

  ;; A e, its transpose, for the output's gradient.
  (func $a (param $e0 v128) (param $e1 v128) (param $e2 v128) (param $e3 v128)
    (result v128 v128 v128 v128 v128 v128)
    (local $p v128) (local $q v128) (local $P v128) (local $Q v128)
    (local.set $p (f32x4.add (local.get $e0) (local.get $e2)))
    (local.set $q (f32x4.add (local.get $e1) (local.get $e3)))
    (local.set $P (f32x4.add (local.get $e0) (f32x4.mul (local.get $e2) (v128.const f32x4 4 4 4 4))))
    (local.set $Q (f32x4.add (f32x4.mul (local.get $e1) (v128.const f32x4 2 2 2 2)) (f32x4.mul (local.get $e3) (v128.const f32x4 8 8 8 8))))
    (local.get $e0)
    (f32x4.add (local.get $p) (local.get $q))
    (f32x4.sub (local.get $p) (local.get $q))
    (f32x4.add (local.get $P) (local.get $Q))
    (f32x4.sub (local.get $P) (local.get $Q))
    (local.get $e3))

  ;; Rows (one per tile) to columns (one per position, a lane per tile), and back: a 4×4 transpose.
  (func $transpose (param $p0 v128) (param $p1 v128) (param $p2 v128) (param $p3 v128) (result v128 v128 v128 v128)
    (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $p0) (local.get $p1)))
    (local.set $t1 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $p2) (local.get $p3)))
    (local.set $t2 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $p0) (local.get $p1)))
    (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $p2) (local.get $p3)))
    (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t1))
    (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t1))
    (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t2) (local.get $t3))
    (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t2) (local.get $t3)))

  ;; Columns 0 and 1 of four rows (lanes 0 and 1 of each), as two columns of four lanes.
  (func $firstTwo (param $q0 v128) (param $q1 v128) (param $q2 v128) (param $q3 v128) (result v128 v128)
    (local $t0 v128) (local $t1 v128)
    (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $q0) (local.get $q1)))
    (local.set $t1 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $q2) (local.get $q3)))
    (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t1))
    (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t1)))

  ;; Six columns of a row of four tiles: floats 0–5 from each of the four addresses.
  (func $sixColumns (param $p0 i32) (param $p1 i32) (param $p2 i32) (param $p3 i32) (result v128 v128 v128 v128 v128 v128)
    (call $transpose (v128.load (local.get $p0)) (v128.load (local.get $p1)) (v128.load (local.get $p2)) (v128.load (local.get $p3)))
    (call $firstTwo (v128.load offset=16 (local.get $p0)) (v128.load offset=16 (local.get $p1))
      (v128.load offset=16 (local.get $p2)) (v128.load offset=16 (local.get $p3))))

  ;; Loads from $at, $step bytes apart.
  (func $load4 (param $at i32) (param $step i32) (result v128 v128 v128 v128)
    (v128.load (local.get $at))
    (v128.load (i32.add (local.get $at) (local.get $step)))
    (v128.load (i32.add (local.get $at) (i32.shl (local.get $step) (i32.const 1))))
    (v128.load (i32.add (local.get $at) (i32.mul (local.get $step) (i32.const 3)))))
  (func $load6 (param $at i32) (param $step i32) (result v128 v128 v128 v128 v128 v128)
    (call $load4 (local.get $at) (local.get $step))
    (v128.load (i32.add (local.get $at) (i32.shl (local.get $step) (i32.const 2))))
    (v128.load (i32.add (local.get $at) (i32.mul (local.get $step) (i32.const 5)))))

  ;; Stores to $at, $step bytes apart.
  (func $store4 (param $at i32) (param $step i32) (param $y0 v128) (param $y1 v128) (param $y2 v128) (param $y3 v128)
    (v128.store (local.get $at) (local.get $y0))
    (v128.store (i32.add (local.get $at) (local.get $step)) (local.get $y1))
    (v128.store (i32.add (local.get $at) (i32.shl (local.get $step) (i32.const 1))) (local.get $y2))
    (v128.store (i32.add (local.get $at) (i32.mul (local.get $step) (i32.const 3))) (local.get $y3)))
  (func $store6 (param $at i32) (param $step i32) (param $y0 v128) (param $y1 v128) (param $y2 v128) (param $y3 v128) (param $y4 v128) (param $y5 v128)
    (call $store4 (local.get $at) (local.get $step) (local.get $y0) (local.get $y1) (local.get $y2) (local.get $y3))
    (v128.store (i32.add (local.get $at) (i32.shl (local.get $step) (i32.const 2))) (local.get $y4))
    (v128.store (i32.add (local.get $at) (i32.mul (local.get $step) (i32.const 5))) (local.get $y5)))

  ;; The first $count lanes of six vectors into six planes, $step bytes apart.
  (func $storeTiles (param $at i32) (param $step i32) (param $count i32)
    (param $y0 v128) (param $y1 v128) (param $y2 v128) (param $y3 v128) (param $y4 v128) (param $y5 v128)
    (if (i32.eq (local.get $count) (i32.const 4))
      (then
        (call $store6 (local.get $at) (local.get $step) (local.get $y0) (local.get $y1) (local.get $y2) (local.get $y3) (local.get $y4) (local.get $y5))
        (return)))
    (call $lanes (local.get $at) (local.get $count) (local.get $y0))
    (call $lanes (i32.add (local.get $at) (local.get $step)) (local.get $count) (local.get $y1))
    (call $lanes (i32.add (local.get $at) (i32.shl (local.get $step) (i32.const 1))) (local.get $count) (local.get $y2))
    (call $lanes (i32.add (local.get $at) (i32.mul (local.get $step) (i32.const 3))) (local.get $count) (local.get $y3))
    (call $lanes (i32.add (local.get $at) (i32.shl (local.get $step) (i32.const 2))) (local.get $count) (local.get $y4))
    (call $lanes (i32.add (local.get $at) (i32.mul (local.get $step) (i32.const 5))) (local.get $count) (local.get $y5)))

  ;; The first $count (1–3) lanes of $x to $at.
  (func $lanes (param $at i32) (param $count i32) (param $x v128)
    (if (i32.ge_u (local.get $count) (i32.const 2))
      (then
        (v128.store64_lane 0 (local.get $at) (local.get $x))
        (if (i32.eq (local.get $count) (i32.const 3)) (then (v128.store32_lane offset=8 2 (local.get $at) (local.get $x)))))
      (else (v128.store32_lane 0 (local.get $at) (local.get $x)))))

  ;; ReLU's mask, as layers.wat's: g · [out > 0] + 0 (the + 0 turns −0 into 0, as the twin's).
  (func $mask32 (param $g v128) (param $out v128) (result v128)
    (f32x4.add
      (f32x4.mul (local.get $g) (v128.and (f32x4.gt (local.get $out) (f32x4.splat (f32.const 0))) (f32x4.splat (f32.const 1))))
      (f32x4.splat (f32.const 0))))

  ;; An output row plus the bias, and its ReLU when $relu.
  (func $activate (param $v v128) (param $bias v128) (param $relu i32) (result v128)
    (local.set $v (f32x4.add (local.get $v) (local.get $bias)))
    (if (result v128) (local.get $relu) (then (call $mask32 (local.get $v) (local.get $v))) (else (local.get $v))))

  ;; A gradient row at $at, masked by the output's sign $toY bytes on (the conv's ReLU), or as it is when $toY is 0.
  (func $gradientRow (param $at i32) (param $toY i32) (result v128)
    (if (result v128) (local.get $toY)
      (then (call $mask32 (v128.load (local.get $at)) (v128.load (i32.add (local.get $at) (local.get $toY)))))
      (else (v128.load (local.get $at)))))

  ;; Four tiles of the padded input, from their top-left values $a0 … $a3 ($row bytes a row), into
  ;; planes 6k + l from $planes: Bᵀ along each tile row into $tmp, then Bᵀ down each column.
  (func $inputTiles (param $a0 i32) (param $a1 i32) (param $a2 i32) (param $a3 i32) (param $count i32)
    (param $planes i32) (param $plane i32) (param $row i32) (param $tmp i32)
    (local $i i32) (local $l i32) (local $off i32)
    (loop $rows
      (local.set $off (i32.mul (local.get $i) (local.get $row)))
      ;; Row i's six results, one per column l, at $tmp + 96·l + 16·i.
      (call $store6 (i32.add (local.get $tmp) (i32.shl (local.get $i) (i32.const 4))) (i32.const 96)
        (call $bt (call $sixColumns (i32.add (local.get $a0) (local.get $off)) (i32.add (local.get $a1) (local.get $off))
          (i32.add (local.get $a2) (local.get $off)) (i32.add (local.get $a3) (local.get $off)))))
      (br_if $rows (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 6))))
    (loop $columns
      (call $storeTiles (i32.add (local.get $planes) (i32.mul (local.get $l) (local.get $plane))) (i32.mul (local.get $plane) (i32.const 6)) (local.get $count)
        (call $bt (call $load6 (i32.add (local.get $tmp) (i32.mul (local.get $l) (i32.const 96))) (i32.const 16))))
      (br_if $columns (i32.lt_u (local.tee $l (i32.add (local.get $l) (i32.const 1))) (i32.const 6)))))

  ;; Four tiles' products (planes 6k + l from $planes) into their 4×4 outputs at $a0 … $a3 ($row
  ;; bytes a row), plus $bias and through a ReLU when $relu: Aᵀ down each column into $tmp, then Aᵀ
  ;; along each row.
  (func $outputTiles (param $a0 i32) (param $a1 i32) (param $a2 i32) (param $a3 i32) (param $count i32)
    (param $planes i32) (param $plane i32) (param $row i32) (param $tmp i32) (param $bias v128) (param $relu i32)
    (local $i i32) (local $l i32) (local $off i32) (local $r0 v128) (local $r1 v128) (local $r2 v128) (local $r3 v128)
    (loop $columns
      ;; Column l's four results, one per row i, at $tmp + 96·i + 16·l.
      (call $store4 (i32.add (local.get $tmp) (i32.shl (local.get $l) (i32.const 4))) (i32.const 96)
        (call $at (call $load6 (i32.add (local.get $planes) (i32.mul (local.get $l) (local.get $plane))) (i32.mul (local.get $plane) (i32.const 6)))))
      (br_if $columns (i32.lt_u (local.tee $l (i32.add (local.get $l) (i32.const 1))) (i32.const 6))))
    (loop $rows
      (local.set $off (i32.mul (local.get $i) (local.get $row)))
      (call $transpose (call $at (call $load6 (i32.add (local.get $tmp) (i32.mul (local.get $i) (i32.const 96))) (i32.const 16))))
      (local.set $r3) (local.set $r2) (local.set $r1) (local.set $r0)
      (v128.store (i32.add (local.get $a0) (local.get $off)) (call $activate (local.get $r0) (local.get $bias) (local.get $relu)))
      (if (i32.gt_u (local.get $count) (i32.const 1)) (then (v128.store (i32.add (local.get $a1) (local.get $off)) (call $activate (local.get $r1) (local.get $bias) (local.get $relu)))))
      (if (i32.gt_u (local.get $count) (i32.const 2)) (then (v128.store (i32.add (local.get $a2) (local.get $off)) (call $activate (local.get $r2) (local.get $bias) (local.get $relu)))))
      (if (i32.gt_u (local.get $count) (i32.const 3)) (then (v128.store (i32.add (local.get $a3) (local.get $off)) (call $activate (local.get $r3) (local.get $bias) (local.get $relu)))))
      (br_if $rows (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 4)))))

  ;; Four tiles' 4×4 output gradients at $a0 … $a3 (masked by the outputs $toY bytes on, unless 0)
  ;; into planes 6k + l from $planes: A along each row into $tmp, then A down each column.
  (func $outputGradientTiles (param $a0 i32) (param $a1 i32) (param $a2 i32) (param $a3 i32) (param $count i32)
    (param $planes i32) (param $plane i32) (param $row i32) (param $tmp i32) (param $toY i32)
    (local $i i32) (local $l i32) (local $off i32)
    (loop $rows
      (local.set $off (i32.mul (local.get $i) (local.get $row)))
      ;; Row i's six results, one per column l, at $tmp + 64·l + 16·i.
      (call $store6 (i32.add (local.get $tmp) (i32.shl (local.get $i) (i32.const 4))) (i32.const 64)
        (call $a (call $transpose (call $gradientRow (i32.add (local.get $a0) (local.get $off)) (local.get $toY))
          (call $gradientRow (i32.add (local.get $a1) (local.get $off)) (local.get $toY))
          (call $gradientRow (i32.add (local.get $a2) (local.get $off)) (local.get $toY))
          (call $gradientRow (i32.add (local.get $a3) (local.get $off)) (local.get $toY)))))
      (br_if $rows (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 4))))
    (loop $columns
      (call $storeTiles (i32.add (local.get $planes) (i32.mul (local.get $l) (local.get $plane))) (i32.mul (local.get $plane) (i32.const 6)) (local.get $count)
        (call $a (call $load4 (i32.add (local.get $tmp) (i32.shl (local.get $l) (i32.const 6))) (i32.const 16))))
      (br_if $columns (i32.lt_u (local.tee $l (i32.add (local.get $l) (i32.const 1))) (i32.const 6)))))

  ;; Four tiles' input gradients (planes 6k + l from $planes), each B ∂V Bᵀ added to its 6×6 block
  ;; of the padded gradient at $a0 … $a3: B down each column into $tmp, then B along each row. A
  ;; block row is added as eight floats, the last two + 0; the tiles are added one after another,
  ;; so blocks that overlap (neighbours share two rows or columns) add up.
  (func $inputGradientTiles (param $a0 i32) (param $a1 i32) (param $a2 i32) (param $a3 i32) (param $count i32)
    (param $planes i32) (param $plane i32) (param $row i32) (param $tmp i32)
    (local $i i32) (local $l i32) (local $off i32)
    (local $x4 v128) (local $x5 v128) (local $r0 v128) (local $r1 v128) (local $r2 v128) (local $r3 v128) (local $t v128)
    (loop $columns
      ;; Column l's six results, one per row i, at $tmp + 96·i + 16·l.
      (call $store6 (i32.add (local.get $tmp) (i32.shl (local.get $l) (i32.const 4))) (i32.const 96)
        (call $b (call $load6 (i32.add (local.get $planes) (i32.mul (local.get $l) (local.get $plane))) (i32.mul (local.get $plane) (i32.const 6)))))
      (br_if $columns (i32.lt_u (local.tee $l (i32.add (local.get $l) (i32.const 1))) (i32.const 6))))
    (loop $rows
      (local.set $off (i32.mul (local.get $i) (local.get $row)))
      (call $b (call $load6 (i32.add (local.get $tmp) (i32.mul (local.get $i) (i32.const 96))) (i32.const 16)))
      (local.set $x5) (local.set $x4)
      (call $transpose)
      (local.set $r3) (local.set $r2) (local.set $r1) (local.set $r0)
      (call $addRow (i32.add (local.get $a0) (local.get $off)) (local.get $r0)
        (i8x16.shuffle 0 1 2 3 16 17 18 19 0 0 0 0 0 0 0 0 (local.get $x4) (local.get $x5)))
      (if (i32.gt_u (local.get $count) (i32.const 1))
        (then (call $addRow (i32.add (local.get $a1) (local.get $off)) (local.get $r1)
          (i8x16.shuffle 4 5 6 7 20 21 22 23 0 0 0 0 0 0 0 0 (local.get $x4) (local.get $x5)))))
      (if (i32.gt_u (local.get $count) (i32.const 2))
        (then (call $addRow (i32.add (local.get $a2) (local.get $off)) (local.get $r2)
          (i8x16.shuffle 8 9 10 11 24 25 26 27 0 0 0 0 0 0 0 0 (local.get $x4) (local.get $x5)))))
      (if (i32.gt_u (local.get $count) (i32.const 3))
        (then (call $addRow (i32.add (local.get $a3) (local.get $off)) (local.get $r3)
          (i8x16.shuffle 12 13 14 15 28 29 30 31 0 0 0 0 0 0 0 0 (local.get $x4) (local.get $x5)))))
      (br_if $rows (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 6)))))

;; The maximum of four candidates (a lane per window) and its position 0–3, the first of equals
  ;; (strictly greater wins, from −∞, as max-pooling's); position 4 where the maximum is not above
  ;; 0, which takes no gradient (the ReLU before the pool passes none there).
  (func $window (param $c0 v128) (param $c1 v128) (param $c2 v128) (param $c3 v128) (result v128 v128)
    (local $best v128) (local $at v128) (local $gt v128)
    (local.set $best (v128.const f32x4 -inf -inf -inf -inf))
    (local.set $at (v128.const i32x4 4 4 4 4))
    (local.set $gt (f32x4.gt (local.get $c0) (local.get $best)))
    (local.set $best (v128.bitselect (local.get $c0) (local.get $best) (local.get $gt)))
    (local.set $at (v128.bitselect (v128.const i32x4 0 0 0 0) (local.get $at) (local.get $gt)))
    (local.set $gt (f32x4.gt (local.get $c1) (local.get $best)))
    (local.set $best (v128.bitselect (local.get $c1) (local.get $best) (local.get $gt)))
    (local.set $at (v128.bitselect (v128.const i32x4 1 1 1 1) (local.get $at) (local.get $gt)))
    (local.set $gt (f32x4.gt (local.get $c2) (local.get $best)))
    (local.set $best (v128.bitselect (local.get $c2) (local.get $best) (local.get $gt)))
    (local.set $at (v128.bitselect (v128.const i32x4 2 2 2 2) (local.get $at) (local.get $gt)))
    (local.set $gt (f32x4.gt (local.get $c3) (local.get $best)))
    (local.set $best (v128.bitselect (local.get $c3) (local.get $best) (local.get $gt)))
    (local.set $at (v128.bitselect (v128.const i32x4 3 3 3 3) (local.get $at) (local.get $gt)))
    (local.get $best)
    (v128.bitselect (local.get $at) (v128.const i32x4 4 4 4 4) (f32x4.gt (local.get $best) (f32x4.splat (f32.const 0)))))

  ;; Two values for each of four tiles (lane k of $x, then of $y) to $a0 … $a3, the first $count tiles.
  (func $storePairs (param $a0 i32) (param $a1 i32) (param $a2 i32) (param $a3 i32) (param $count i32) (param $x v128) (param $y v128)
    (local $lo v128) (local $hi v128)
    (local.set $lo (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $x) (local.get $y)))
    (local.set $hi (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $x) (local.get $y)))
    (v128.store64_lane 0 (local.get $a0) (local.get $lo))
    (if (i32.gt_u (local.get $count) (i32.const 1)) (then (v128.store64_lane 1 (local.get $a1) (local.get $lo))))
    (if (i32.gt_u (local.get $count) (i32.const 2)) (then (v128.store64_lane 0 (local.get $a2) (local.get $hi))))
    (if (i32.gt_u (local.get $count) (i32.const 3)) (then (v128.store64_lane 1 (local.get $a3) (local.get $hi)))))

  ;; Four tiles' products (planes 6k + l from $planes) as $outputTiles takes them, plus $bias and
  ;; through a ReLU, then max-pooled over 2×2 windows: each tile's 2×2 maxima to $a0 … $a3 (pooled
  ;; rows 2·$half bytes apart), and their windows' positions ($window) $toPos bytes on, as int32.
  (func $outputTilesPooled (param $a0 i32) (param $a1 i32) (param $a2 i32) (param $a3 i32) (param $count i32)
    (param $planes i32) (param $plane i32) (param $half i32) (param $tmp i32) (param $bias v128) (param $toPos i32)
    (local $l i32) (local $r i32) (local $off i32) (local $top i32)
    (local $x0 v128) (local $x1 v128) (local $x2 v128) (local $x3 v128)
    (local $y0 v128) (local $y1 v128) (local $y2 v128) (local $y3 v128)
    (local $m0 v128) (local $p0 v128) (local $m1 v128) (local $p1 v128)
    (loop $columns
      ;; Column l's four results, one per row i, at $tmp + 96·i + 16·l.
      (call $store4 (i32.add (local.get $tmp) (i32.shl (local.get $l) (i32.const 4))) (i32.const 96)
        (call $at (call $load6 (i32.add (local.get $planes) (i32.mul (local.get $l) (local.get $plane))) (i32.mul (local.get $plane) (i32.const 6)))))
      (br_if $columns (i32.lt_u (local.tee $l (i32.add (local.get $l) (i32.const 1))) (i32.const 6))))
    (loop $pairs
      ;; Output rows 2r and 2r + 1 as their four columns, a lane per tile.
      (local.set $top (i32.add (local.get $tmp) (i32.mul (local.get $r) (i32.const 192))))
      (call $at (call $load6 (local.get $top) (i32.const 16)))
      (local.set $x3) (local.set $x2) (local.set $x1) (local.set $x0)
      (call $at (call $load6 (i32.add (local.get $top) (i32.const 96)) (i32.const 16)))
      (local.set $y3) (local.set $y2) (local.set $y1) (local.set $y0)
      (call $window (call $activate (local.get $x0) (local.get $bias) (i32.const 1)) (call $activate (local.get $x1) (local.get $bias) (i32.const 1))
        (call $activate (local.get $y0) (local.get $bias) (i32.const 1)) (call $activate (local.get $y1) (local.get $bias) (i32.const 1)))
      (local.set $p0) (local.set $m0)
      (call $window (call $activate (local.get $x2) (local.get $bias) (i32.const 1)) (call $activate (local.get $x3) (local.get $bias) (i32.const 1))
        (call $activate (local.get $y2) (local.get $bias) (i32.const 1)) (call $activate (local.get $y3) (local.get $bias) (i32.const 1)))
      (local.set $p1) (local.set $m1)
      (local.set $off (i32.mul (local.get $r) (i32.shl (local.get $half) (i32.const 1))))
      (call $storePairs (i32.add (local.get $a0) (local.get $off)) (i32.add (local.get $a1) (local.get $off))
        (i32.add (local.get $a2) (local.get $off)) (i32.add (local.get $a3) (local.get $off)) (local.get $count) (local.get $m0) (local.get $m1))
      (local.set $off (i32.add (local.get $off) (local.get $toPos)))
      (call $storePairs (i32.add (local.get $a0) (local.get $off)) (i32.add (local.get $a1) (local.get $off))
        (i32.add (local.get $a2) (local.get $off)) (i32.add (local.get $a3) (local.get $off)) (local.get $count) (local.get $p0) (local.get $p1))
      (br_if $pairs (i32.lt_u (local.tee $r (i32.add (local.get $r) (i32.const 1))) (i32.const 2)))))

  ;; Row 2r + $odd of a tile's 4×4 output gradient, from its pooled row r at $at (two gradients, and
  ;; their windows' positions $toPos bytes on): each gradient where its window's maximum was, else 0.
  (func $pooledGradientRow (param $at i32) (param $toPos i32) (param $odd i32) (result v128)
    (local $g v128) (local $p v128)
    (local.set $g (v128.load64_zero (local.get $at)))
    (local.set $p (v128.load64_zero (i32.add (local.get $at) (local.get $toPos))))
    (local.set $g (i8x16.shuffle 0 1 2 3 0 1 2 3 4 5 6 7 4 5 6 7 (local.get $g) (local.get $g)))
    (local.set $p (i8x16.shuffle 0 1 2 3 0 1 2 3 4 5 6 7 4 5 6 7 (local.get $p) (local.get $p)))
    ;; + 0 turns −0 into 0, as the pool's and the ReLU's backward passes do.
    (f32x4.add
      (v128.and (local.get $g)
        (i32x4.eq (local.get $p) (select (v128.const i32x4 2 3 2 3) (v128.const i32x4 0 1 0 1) (local.get $odd))))
      (v128.const f32x4 0 0 0 0)))

  ;; Four tiles' output gradients rebuilt from their pooled gradients at $a0 … $a3 (pooled rows
  ;; 2·$half bytes apart, positions $toPos bytes on) into planes 6k + l from $planes, as
  ;; $outputGradientTiles does from the 4×4 blocks.
  (func $outputGradientTilesPooled (param $a0 i32) (param $a1 i32) (param $a2 i32) (param $a3 i32) (param $count i32)
    (param $planes i32) (param $plane i32) (param $half i32) (param $tmp i32) (param $toPos i32)
    (local $i i32) (local $l i32) (local $off i32) (local $odd i32)
    (loop $rows
      (local.set $off (i32.mul (i32.shr_u (local.get $i) (i32.const 1)) (i32.shl (local.get $half) (i32.const 1))))
      (local.set $odd (i32.and (local.get $i) (i32.const 1)))
      ;; Row i's six results, one per column l, at $tmp + 64·l + 16·i.
      (call $store6 (i32.add (local.get $tmp) (i32.shl (local.get $i) (i32.const 4))) (i32.const 64)
        (call $a (call $transpose
          (call $pooledGradientRow (i32.add (local.get $a0) (local.get $off)) (local.get $toPos) (local.get $odd))
          (call $pooledGradientRow (i32.add (local.get $a1) (local.get $off)) (local.get $toPos) (local.get $odd))
          (call $pooledGradientRow (i32.add (local.get $a2) (local.get $off)) (local.get $toPos) (local.get $odd))
          (call $pooledGradientRow (i32.add (local.get $a3) (local.get $off)) (local.get $toPos) (local.get $odd)))))
      (br_if $rows (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 4))))
    (loop $columns
      (call $storeTiles (i32.add (local.get $planes) (i32.mul (local.get $l) (local.get $plane))) (i32.mul (local.get $plane) (i32.const 6)) (local.get $count)
        (call $a (call $load4 (i32.add (local.get $tmp) (i32.shl (local.get $l) (i32.const 6))) (i32.const 16))))
      (br_if $columns (i32.lt_u (local.tee $l (i32.add (local.get $l) (i32.const 1))) (i32.const 6)))))

  ;; Eight floats at $at += ($first, $last with its upper two lanes zeroed).
  (func $addRow (param $at i32) (param $first v128) (param $last v128)
    (v128.store (local.get $at) (f32x4.add (v128.load (local.get $at)) (local.get $first)))
    (v128.store offset=16 (local.get $at)
      (f32x4.add (v128.load offset=16 (local.get $at)) (v128.and (local.get $last) (v128.const i32x4 -1 -1 0 0)))))

  ;; Every tile of $n images, four at a time: tile (b, ty, tx)'s top-left value sits at
  ;; $base + b·$image + 4·ty·$row + 16·tx, and the tiles are consecutive in the planes from $planes.
  ;; $kind picks the transform: 0 input, 1 output, 2 output gradient, 3 input gradient, 4 and 5 the
  ;; output and its gradient through a ReLU and 2×2 max-pooling; $bias and $extra are the outputs'
  ;; ($extra: ReLU or not for 1, $toPos for 4) and the output gradients' ($toY for 2, $toPos for 5).
  ;; The pooled kinds walk the pooled layout, each tile's 2×2 values $step = 8 bytes after the last
  ;; (16 otherwise, a tile's 4 values).
  (func $walk (param $kind i32) (param $base i32) (param $row i32) (param $image i32) (param $n i32) (param $th i32) (param $tw i32)
    (param $planes i32) (param $plane i32) (param $tmp i32) (param $bias v128) (param $extra i32) (param $step i32)
    (local $b i32) (local $ty i32) (local $tx i32) (local $k i32) (local $at i32) (local $rowAt i32) (local $imageAt i32)
    (local $a0 i32) (local $a1 i32) (local $a2 i32) (local $a3 i32)
    (local.set $imageAt (local.get $base))
    (loop $images
      (local.set $rowAt (local.get $imageAt))
      (local.set $ty (i32.const 0))
      (loop $rows
        (local.set $at (local.get $rowAt))
        (local.set $tx (i32.const 0))
        (loop $tiles
          ;; A group's first tile's address goes to every lane, so that the empty lanes of a short last group read a tile (with $toY or $toPos added too).
          (if (i32.eqz (local.get $k))
            (then (local.set $a0 (local.get $at)) (local.set $a1 (local.get $at)) (local.set $a2 (local.get $at)) (local.set $a3 (local.get $at)))
            (else (if (i32.eq (local.get $k) (i32.const 1)) (then (local.set $a1 (local.get $at)))
              (else (if (i32.eq (local.get $k) (i32.const 2)) (then (local.set $a2 (local.get $at)))
                (else (local.set $a3 (local.get $at))))))))
          (if (i32.eq (local.tee $k (i32.add (local.get $k) (i32.const 1))) (i32.const 4))
            (then
              (call $group (local.get $kind) (local.get $a0) (local.get $a1) (local.get $a2) (local.get $a3) (i32.const 4)
                (local.get $planes) (local.get $plane) (local.get $row) (local.get $tmp) (local.get $bias) (local.get $extra))
              (local.set $planes (i32.add (local.get $planes) (i32.const 16)))
              (local.set $k (i32.const 0))))
          (local.set $at (i32.add (local.get $at) (local.get $step)))
          (br_if $tiles (i32.lt_u (local.tee $tx (i32.add (local.get $tx) (i32.const 1))) (local.get $tw))))
        (local.set $rowAt (i32.add (local.get $rowAt) (i32.shl (local.get $row) (i32.const 2))))
        (br_if $rows (i32.lt_u (local.tee $ty (i32.add (local.get $ty) (i32.const 1))) (local.get $th))))
      (local.set $imageAt (i32.add (local.get $imageAt) (local.get $image)))
      (br_if $images (i32.lt_u (local.tee $b (i32.add (local.get $b) (i32.const 1))) (local.get $n))))
    ;; The empty lanes of a last short group read its first tile again, and store nothing.
    (if (local.get $k)
      (then (call $group (local.get $kind) (local.get $a0) (local.get $a1) (local.get $a2) (local.get $a3) (local.get $k)
        (local.get $planes) (local.get $plane) (local.get $row) (local.get $tmp) (local.get $bias) (local.get $extra)))))

  (func $group (param $kind i32) (param $a0 i32) (param $a1 i32) (param $a2 i32) (param $a3 i32) (param $count i32)
    (param $planes i32) (param $plane i32) (param $row i32) (param $tmp i32) (param $bias v128) (param $extra i32)
    (if (i32.eqz (local.get $kind))
      (then (call $inputTiles (local.get $a0) (local.get $a1) (local.get $a2) (local.get $a3) (local.get $count)
        (local.get $planes) (local.get $plane) (local.get $row) (local.get $tmp)) (return)))
    (if (i32.eq (local.get $kind) (i32.const 1))
      (then (call $outputTiles (local.get $a0) (local.get $a1) (local.get $a2) (local.get $a3) (local.get $count)
        (local.get $planes) (local.get $plane) (local.get $row) (local.get $tmp) (local.get $bias) (local.get $extra)) (return)))
    (if (i32.eq (local.get $kind) (i32.const 4))
      (then (call $outputTilesPooled (local.get $a0) (local.get $a1) (local.get $a2) (local.get $a3) (local.get $count)
        (local.get $planes) (local.get $plane) (local.get $row) (local.get $tmp) (local.get $bias) (local.get $extra)) (return)))
    (if (i32.eq (local.get $kind) (i32.const 5))
      (then (call $outputGradientTilesPooled (local.get $a0) (local.get $a1) (local.get $a2) (local.get $a3) (local.get $count)
        (local.get $planes) (local.get $plane) (local.get $row) (local.get $tmp) (local.get $extra)) (return)))
    (if (i32.eq (local.get $kind) (i32.const 2))
      (then (call $outputGradientTiles (local.get $a0) (local.get $a1) (local.get $a2) (local.get $a3) (local.get $count)
        (local.get $planes) (local.get $plane) (local.get $row) (local.get $tmp) (local.get $extra)) (return)))
    (call $inputGradientTiles (local.get $a0) (local.get $a1) (local.get $a2) (local.get $a3) (local.get $count)
      (local.get $planes) (local.get $plane) (local.get $row) (local.get $tmp)))

  ;; Copy $n images of $rows rows of $width floats between a dense layout (at $dense) and a wider
  ;; one (at $wide: $wideRow bytes a row, $wideImage an image, the copy starting at $offset bytes
  ;; into each); $out copies wide → dense. Unless $toMask is 0, each value is masked by the sign
  ;; of the one $toMask bytes on from its dense place (ReLU's backward pass).
  (func $copyImages (param $dense i32) (param $wide i32) (param $n i32) (param $rows i32) (param $width i32)
    (param $wideRow i32) (param $wideImage i32) (param $offset i32) (param $out i32) (param $toMask i32)
    (local $b i32) (local $y i32) (local $from i32) (local $bytes i32)
    (local.set $bytes (i32.shl (local.get $width) (i32.const 2)))
    (local.set $wide (i32.add (local.get $wide) (local.get $offset)))
    (loop $images
      (local.set $from (local.get $wide))
      (local.set $y (i32.const 0))
      (loop $rows
        (if (local.get $toMask)
          (then (if (local.get $out)
            (then (call $maskedRow (local.get $dense) (local.get $from) (local.get $bytes) (i32.add (local.get $dense) (local.get $toMask))))
            (else (call $maskedRow (local.get $from) (local.get $dense) (local.get $bytes) (i32.add (local.get $dense) (local.get $toMask))))))
          (else (if (local.get $out)
            (then (memory.copy (local.get $dense) (local.get $from) (local.get $bytes)))
            (else (memory.copy (local.get $from) (local.get $dense) (local.get $bytes))))))
        (local.set $dense (i32.add (local.get $dense) (local.get $bytes)))
        (local.set $from (i32.add (local.get $from) (local.get $wideRow)))
        (br_if $rows (i32.lt_u (local.tee $y (i32.add (local.get $y) (i32.const 1))) (local.get $rows))))
      (local.set $wide (i32.add (local.get $wide) (local.get $wideImage)))
      (br_if $images (i32.lt_u (local.tee $b (i32.add (local.get $b) (i32.const 1))) (local.get $n)))))

;; $bytes of $src to $dst, each float masked by the sign of the one at the same place from $mask:
  ;; four at a time, then one by one.
  (func $maskedRow (param $dst i32) (param $src i32) (param $bytes i32) (param $mask i32)
    (local $i i32) (local $g f32)
    (block $done
      (loop $fours
        (br_if $done (i32.gt_u (i32.add (local.get $i) (i32.const 16)) (local.get $bytes)))
        (v128.store (i32.add (local.get $dst) (local.get $i))
          (call $mask32 (v128.load (i32.add (local.get $src) (local.get $i))) (v128.load (i32.add (local.get $mask) (local.get $i)))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $fours)))
    (block $end
      (loop $ones
        (br_if $end (i32.ge_u (local.get $i) (local.get $bytes)))
        (local.set $g (f32.load (i32.add (local.get $src) (local.get $i))))
        (f32.store (i32.add (local.get $dst) (local.get $i))
          (f32.add
            (f32.mul (local.get $g) (f32.convert_i32_u (f32.gt (f32.load (i32.add (local.get $mask) (local.get $i))) (f32.const 0))))
            (f32.const 0)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $ones))))

  ;; transformInput4 for $n images of one channel from $image (h × w each) into the planes at $v.
  (func (export "winograd4Input") (param $image i32) (param $h i32) (param $w i32) (param $pad i32) (param $n i32) (param $th i32) (param $tw i32)
    (param $v i32) (param $plane i32) (param $scratch i32)
    (local $row i32) (local $padded i32) (local $at i32)
    (local.set $row (i32.add (i32.shl (local.get $tw) (i32.const 4)) (i32.const 16)))
    (local.set $padded (i32.mul (local.get $row) (i32.add (i32.shl (local.get $th) (i32.const 2)) (i32.const 2))))
    (local.set $at (i32.add (local.get $scratch) (i32.const 640)))
    (memory.fill (local.get $at) (i32.const 0) (i32.mul (local.get $padded) (local.get $n)))
    (call $copyImages (local.get $image) (local.get $at) (local.get $n) (local.get $h) (local.get $w) (local.get $row) (local.get $padded)
      (i32.add (i32.mul (local.get $pad) (local.get $row)) (i32.shl (local.get $pad) (i32.const 2))) (i32.const 0) (i32.const 0))
    (call $walk (i32.const 0) (local.get $at) (local.get $row) (local.get $padded) (local.get $n) (local.get $th) (local.get $tw)
      (local.get $v) (local.get $plane) (local.get $scratch) (v128.const i32x4 0 0 0 0) (i32.const 0) (i32.const 16)))

  ;; transformInputGradient4: the planes at $dv into $n images of ∂x from $dx (overwritten), each
  ;; value masked by the input's sign $toX bytes on (the ReLU before the conv), unless $toX is 0.
  (func (export "winograd4InputGradient") (param $dv i32) (param $plane i32) (param $dx i32) (param $h i32) (param $w i32) (param $pad i32)
    (param $n i32) (param $th i32) (param $tw i32) (param $toX i32) (param $scratch i32)
    (local $row i32) (local $padded i32) (local $at i32)
    (local.set $row (i32.add (i32.shl (local.get $tw) (i32.const 4)) (i32.const 16)))
    (local.set $padded (i32.mul (local.get $row) (i32.add (i32.shl (local.get $th) (i32.const 2)) (i32.const 2))))
    (local.set $at (i32.add (local.get $scratch) (i32.const 640)))
    (memory.fill (local.get $at) (i32.const 0) (i32.mul (local.get $padded) (local.get $n)))
    (call $walk (i32.const 3) (local.get $at) (local.get $row) (local.get $padded) (local.get $n) (local.get $th) (local.get $tw)
      (local.get $dv) (local.get $plane) (local.get $scratch) (v128.const i32x4 0 0 0 0) (i32.const 0) (i32.const 16))
    (call $copyImages (local.get $dx) (local.get $at) (local.get $n) (local.get $h) (local.get $w) (local.get $row) (local.get $padded)
      (i32.add (i32.mul (local.get $pad) (local.get $row)) (i32.shl (local.get $pad) (i32.const 2))) (i32.const 1) (local.get $toX)))

  ;; transformOutput4: the planes at $m into $n images of y from $y (oh × ow each), plus $bias, and
  ;; through a ReLU when $relu.
  (func (export "winograd4Output") (param $m i32) (param $plane i32) (param $y i32) (param $oh i32) (param $ow i32) (param $n i32)
    (param $th i32) (param $tw i32) (param $bias f32) (param $relu i32) (param $scratch i32)
    (local $row i32) (local $block i32) (local $at i32)
    (if (i32.and (i32.eq (i32.shl (local.get $th) (i32.const 2)) (local.get $oh)) (i32.eq (i32.shl (local.get $tw) (i32.const 2)) (local.get $ow)))
      (then
        (call $walk (i32.const 1) (local.get $y) (i32.shl (local.get $ow) (i32.const 2)) (i32.shl (i32.mul (local.get $oh) (local.get $ow)) (i32.const 2))
          (local.get $n) (local.get $th) (local.get $tw) (local.get $m) (local.get $plane) (local.get $scratch) (f32x4.splat (local.get $bias)) (local.get $relu) (i32.const 16))
        (return)))
    (local.set $row (i32.shl (local.get $tw) (i32.const 4)))
    (local.set $block (i32.mul (local.get $row) (i32.shl (local.get $th) (i32.const 2))))
    (local.set $at (i32.add (local.get $scratch) (i32.const 640)))
    (call $walk (i32.const 1) (local.get $at) (local.get $row) (local.get $block) (local.get $n) (local.get $th) (local.get $tw)
      (local.get $m) (local.get $plane) (local.get $scratch) (f32x4.splat (local.get $bias)) (local.get $relu) (i32.const 16))
    (call $copyImages (local.get $y) (local.get $at) (local.get $n) (local.get $oh) (local.get $ow) (local.get $row) (local.get $block) (i32.const 0) (i32.const 1) (i32.const 0)))

  ;; The output through a ReLU and 2×2 max-pooling (output sizes multiples of 4): the planes at $m into
  ;; $n pooled images from $y (oh/2 × ow/2 each), their windows' positions $toPos bytes on.
  (func (export "winograd4OutputPooled") (param $m i32) (param $plane i32) (param $y i32) (param $oh i32) (param $ow i32) (param $n i32)
    (param $th i32) (param $tw i32) (param $bias f32) (param $toPos i32) (param $scratch i32)
    ;; Walked with pooled rows of 2·ow bytes as 4·$row per tile row, so $row = ow bytes, half a pooled row.
    (call $walk (i32.const 4) (local.get $y) (local.get $ow) (i32.mul (local.get $oh) (local.get $ow)) (local.get $n) (local.get $th) (local.get $tw)
      (local.get $m) (local.get $plane) (local.get $scratch) (f32x4.splat (local.get $bias)) (local.get $toPos) (i32.const 8)))

  ;; Its gradient: $n pooled images of gradients from $dy (oh/2 × ow/2 each, positions $toPos bytes on) into the planes at $d.
  (func (export "winograd4OutputGradientPooled") (param $dy i32) (param $oh i32) (param $ow i32) (param $n i32) (param $th i32) (param $tw i32)
    (param $d i32) (param $plane i32) (param $toPos i32) (param $scratch i32)
    (call $walk (i32.const 5) (local.get $dy) (local.get $ow) (i32.mul (local.get $oh) (local.get $ow)) (local.get $n) (local.get $th) (local.get $tw)
      (local.get $d) (local.get $plane) (local.get $scratch) (v128.const i32x4 0 0 0 0) (local.get $toPos) (i32.const 8)))

  ;; transformOutputGradient4: $n images of ∂y from $dy (oh × ow each) into the planes at $d; each
  ;; value masked by the output's sign $toY bytes on (the conv's ReLU), unless $toY is 0.
  (func (export "winograd4OutputGradient") (param $dy i32) (param $oh i32) (param $ow i32) (param $n i32) (param $th i32) (param $tw i32)
    (param $d i32) (param $plane i32) (param $toY i32) (param $scratch i32)
    (local $row i32) (local $block i32) (local $at i32)
    (if (i32.and (i32.eq (i32.shl (local.get $th) (i32.const 2)) (local.get $oh)) (i32.eq (i32.shl (local.get $tw) (i32.const 2)) (local.get $ow)))
      (then
        (call $walk (i32.const 2) (local.get $dy) (i32.shl (local.get $ow) (i32.const 2)) (i32.shl (i32.mul (local.get $oh) (local.get $ow)) (i32.const 2))
          (local.get $n) (local.get $th) (local.get $tw) (local.get $d) (local.get $plane) (local.get $scratch) (v128.const i32x4 0 0 0 0) (local.get $toY) (i32.const 16))
        (return)))
    (local.set $row (i32.shl (local.get $tw) (i32.const 4)))
    (local.set $block (i32.mul (local.get $row) (i32.shl (local.get $th) (i32.const 2))))
    (local.set $at (i32.add (local.get $scratch) (i32.const 640)))
    (memory.fill (local.get $at) (i32.const 0) (i32.mul (local.get $block) (local.get $n)))
    (call $copyImages (local.get $dy) (local.get $at) (local.get $n) (local.get $oh) (local.get $ow) (local.get $row) (local.get $block) (i32.const 0) (i32.const 0) (local.get $toY))
    (call $walk (i32.const 2) (local.get $at) (local.get $row) (local.get $block) (local.get $n) (local.get $th) (local.get $tw)
      (local.get $d) (local.get $plane) (local.get $scratch) (v128.const i32x4 0 0 0 0) (i32.const 0) (i32.const 16))))
