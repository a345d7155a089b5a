;; The conv layers' element-wise passes and batch norm's per-channel loops, four floats at a time,
;; over buffers in the shared arena (arena.ts); kernels.ts holds their JavaScript twins, which run on
;; buffers outside it.
;; - Batch norm's sums run in float64 lanes in the twin's order (lane 0 takes the even elements,
;;   lane 1 the odd ones, an odd tail goes to lane 0): the same bits.
;; - ReLU, its backward mask and the residual sums are exact in float32 (a product by 1 or 0, and
;;   one correctly rounded addition): the same bits.
;; - Winograd's four transforms run in float32 lanes, where the twins add in float64: within a few
;;   roundings of the values they combine.
;; - Batch norm's affine passes (a·u + b·v + k) run in float32 lanes, rounding after each step
;;   where the twin rounds once from float64: within a few ulps. Float64 lanes gave the twin's
;;   bits but no speed (two lanes, and a conversion each way); float32 lanes ran 2–3× faster.
;; Pointers are byte addresses; n counts floats. Loads need no alignment.
(module
  (import "env" "memory" (memory 1 65536 shared))

  ;; (x0, x1, x2, x3) as two float64 pairs.
  (func $low (param $v v128) (result v128) (f64x2.promote_low_f32x4 (local.get $v)))
  (func $high (param $v v128) (result v128)
    (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))))
  ;; g · [out > 0] + 0, in float32 lanes.
  (func $mask32 (param $g v128) (param $out v128) (result v128)
    (f32x4.add
      (f32x4.mul (local.get $g) (v128.and (f32x4.gt (local.get $out) (f32x4.splat (f32.const 0))) (f32x4.splat (f32.const 1))))
      (f32x4.splat (f32.const 0))))

  ;; Σ a and Σ a·b over n floats (b = a: Σ a²). With $mask, a is first masked by [out > 0].
  (func $sums (param $a i32) (param $b i32) (param $out i32) (param $mask i32) (param $n i32) (result f64 f64)
    (local $s v128) (local $d v128) (local $va v128) (local $vb v128) (local $x v128) (local $y v128)
    (local $end i32) (local $e f32)
    (local.set $end (i32.add (local.get $a) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $done
      (loop $quads
        (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
        (local.set $va (v128.load (local.get $a)))
        (if (local.get $mask) (then (local.set $va (call $mask32 (local.get $va) (v128.load (local.get $out))))))
        (local.set $vb (v128.load (local.get $b)))
        (local.set $x (call $low (local.get $va)))
        (local.set $y (call $high (local.get $va)))
        (local.set $s (f64x2.add (f64x2.add (local.get $s) (local.get $x)) (local.get $y)))
        (local.set $d (f64x2.add
          (f64x2.add (local.get $d) (f64x2.mul (local.get $x) (call $low (local.get $vb))))
          (f64x2.mul (local.get $y) (call $high (local.get $vb)))))
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (local.set $b (i32.add (local.get $b) (i32.const 16)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (br $quads)))
    ;; A pair left: lanes 0 and 1 once more.
    (if (i32.and (local.get $n) (i32.const 2))
      (then
        (local.set $va (v128.load64_zero (local.get $a)))
        (if (local.get $mask) (then (local.set $va (call $mask32 (local.get $va) (v128.load64_zero (local.get $out))))))
        (local.set $x (call $low (local.get $va)))
        (local.set $s (f64x2.add (local.get $s) (local.get $x)))
        (local.set $d (f64x2.add (local.get $d) (f64x2.mul (local.get $x) (call $low (v128.load64_zero (local.get $b))))))
        (local.set $a (i32.add (local.get $a) (i32.const 8)))
        (local.set $b (i32.add (local.get $b) (i32.const 8)))
        (local.set $out (i32.add (local.get $out) (i32.const 8)))))
    ;; An odd element left: lane 0.
    (if (i32.and (local.get $n) (i32.const 1))
      (then
        (local.set $e (f32.load (local.get $a)))
        (if (local.get $mask)
          (then (local.set $e (f32.add
            (f32.mul (local.get $e) (f32.convert_i32_u (f32.gt (f32.load (local.get $out)) (f32.const 0))))
            (f32.const 0)))))
        (local.set $s (f64x2.replace_lane 0 (local.get $s)
          (f64.add (f64x2.extract_lane 0 (local.get $s)) (f64.promote_f32 (local.get $e)))))
        (local.set $d (f64x2.replace_lane 0 (local.get $d)
          (f64.add (f64x2.extract_lane 0 (local.get $d))
            (f64.mul (f64.promote_f32 (local.get $e)) (f64.promote_f32 (f32.load (local.get $b)))))))))
    (f64.add (f64x2.extract_lane 0 (local.get $s)) (f64x2.extract_lane 1 (local.get $s)))
    (f64.add (f64x2.extract_lane 0 (local.get $d)) (f64x2.extract_lane 1 (local.get $d))))

  (func (export "sumSquares") (param $a i32) (param $n i32) (result f64 f64)
    (call $sums (local.get $a) (local.get $a) (i32.const 0) (i32.const 0) (local.get $n)))
  (func (export "sumDot") (param $a i32) (param $b i32) (param $n i32) (result f64 f64)
    (call $sums (local.get $a) (local.get $b) (i32.const 0) (i32.const 0) (local.get $n)))
  (func (export "maskedSumDot") (param $a i32) (param $out i32) (param $b i32) (param $n i32) (result f64 f64)
    (call $sums (local.get $a) (local.get $b) (local.get $out) (i32.const 1) (local.get $n)))

  ;; dst = p·u + q·v + k, where u is src1 (masked by [out > 0] when $out ≠ 0) and v is src2 (only
  ;; when $two), ReLU'd when $relu.
  (func $affine (param $u i32) (param $v i32) (param $dst i32) (param $n i32) (param $p f32) (param $q f32) (param $k f32)
      (param $out i32) (param $relu i32) (param $two i32)
    (local $P v128) (local $Q v128) (local $K v128) (local $x v128)
    (local $end i32) (local $i i32) (local $e f32)
    (local.set $P (f32x4.splat (local.get $p)))
    (local.set $Q (f32x4.splat (local.get $q)))
    (local.set $K (f32x4.splat (local.get $k)))
    (local.set $end (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2)))
    (block $done
      (loop $quads
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $x (v128.load (i32.add (local.get $u) (local.get $i))))
        (if (local.get $out)
          (then (local.set $x (call $mask32 (local.get $x) (v128.load (i32.add (local.get $out) (local.get $i)))))))
        (local.set $x (f32x4.mul (local.get $P) (local.get $x)))
        (if (local.get $two)
          (then (local.set $x (f32x4.add (local.get $x) (f32x4.mul (local.get $Q) (v128.load (i32.add (local.get $v) (local.get $i))))))))
        (local.set $x (f32x4.add (local.get $x) (local.get $K)))
        (if (local.get $relu) (then (local.set $x (call $mask32 (local.get $x) (local.get $x)))))
        (v128.store (i32.add (local.get $dst) (local.get $i)) (local.get $x))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $quads)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $tail
      (loop $ones
        (br_if $tail (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $e (f32.load (i32.add (local.get $u) (local.get $i))))
        (if (local.get $out)
          (then (local.set $e (f32.add
            (f32.mul (local.get $e) (f32.convert_i32_u (f32.gt (f32.load (i32.add (local.get $out) (local.get $i))) (f32.const 0))))
            (f32.const 0)))))
        (local.set $e (f32.mul (local.get $p) (local.get $e)))
        (if (local.get $two)
          (then (local.set $e (f32.add (local.get $e) (f32.mul (local.get $q) (f32.load (i32.add (local.get $v) (local.get $i))))))))
        (local.set $e (f32.add (local.get $e) (local.get $k)))
        (if (local.get $relu)
          (then (local.set $e (f32.add (f32.mul (local.get $e) (f32.convert_i32_u (f32.gt (local.get $e) (f32.const 0)))) (f32.const 0)))))
        (f32.store (i32.add (local.get $dst) (local.get $i)) (local.get $e))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $ones))))

  ;; Batch norm forward: out = x·scale + shift, ReLU'd when $relu.
  (func (export "normalize") (param $x i32) (param $out i32) (param $n i32) (param $scale f32) (param $shift f32) (param $relu i32)
    (call $affine (local.get $x) (i32.const 0) (local.get $out) (local.get $n) (local.get $scale) (f32.const 0) (local.get $shift)
      (i32.const 0) (local.get $relu) (i32.const 0)))
  ;; Batch norm backward in training: dx = a·g' + b·x + k, g' = g masked by [out > 0] when $out ≠ 0.
  (func (export "normGradient") (param $g i32) (param $x i32) (param $dx i32) (param $n i32) (param $a f32) (param $b f32) (param $k f32) (param $out i32)
    (call $affine (local.get $g) (local.get $x) (local.get $dx) (local.get $n) (local.get $a) (local.get $b) (local.get $k)
      (local.get $out) (i32.const 0) (i32.const 1)))
  ;; Batch norm backward in evaluation: dx = scale·g'.
  (func (export "scaleGradient") (param $g i32) (param $dx i32) (param $n i32) (param $scale f32) (param $out i32)
    ;; + (−0) leaves every value as it is, −0 included: the twin adds nothing.
    (call $affine (local.get $g) (i32.const 0) (local.get $dx) (local.get $n) (local.get $scale) (f32.const 0) (f32.const -0)
      (local.get $out) (i32.const 0) (i32.const 0)))

  ;; Element-wise passes in float32 lanes: $op 0 is ReLU of a, 1 is a masked by [b > 0] (ReLU's
  ;; backward pass), 2 is a + b, 3 is ReLU of a + b (a residual block's output).
  (func $elementwise (param $op i32) (param $a i32) (param $b i32) (param $dst i32) (param $n i32)
    (local $i i32) (local $end i32) (local $v v128) (local $w v128) (local $e f32) (local $f f32)
    (local.set $end (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2)))
    (block $done
      (loop $quads
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $v (v128.load (i32.add (local.get $a) (local.get $i))))
        (if (local.get $op) (then (local.set $w (v128.load (i32.add (local.get $b) (local.get $i))))))
        (if (i32.ge_u (local.get $op) (i32.const 2)) (then (local.set $v (f32x4.add (local.get $v) (local.get $w)))))
        (if (i32.ne (local.get $op) (i32.const 2))
          (then (local.set $v (call $mask32 (local.get $v) (select (local.get $w) (local.get $v) (i32.eq (local.get $op) (i32.const 1)))))))
        (v128.store (i32.add (local.get $dst) (local.get $i)) (local.get $v))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $quads)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $tail
      (loop $ones
        (br_if $tail (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $e (f32.load (i32.add (local.get $a) (local.get $i))))
        (if (local.get $op) (then (local.set $f (f32.load (i32.add (local.get $b) (local.get $i))))))
        (if (i32.ge_u (local.get $op) (i32.const 2)) (then (local.set $e (f32.add (local.get $e) (local.get $f)))))
        (if (i32.ne (local.get $op) (i32.const 2))
          (then (local.set $e (f32.add
            (f32.mul (local.get $e)
              (f32.convert_i32_u (f32.gt (select (local.get $f) (local.get $e) (i32.eq (local.get $op) (i32.const 1))) (f32.const 0))))
            (f32.const 0)))))
        (f32.store (i32.add (local.get $dst) (local.get $i)) (local.get $e))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $ones))))

  (func (export "relu") (param $a i32) (param $n i32)
    (call $elementwise (i32.const 0) (local.get $a) (i32.const 0) (local.get $a) (local.get $n)))
  (func (export "passWherePositive") (param $g i32) (param $out i32) (param $dx i32) (param $n i32)
    (call $elementwise (i32.const 1) (local.get $g) (local.get $out) (local.get $dx) (local.get $n)))
  (func (export "add") (param $a i32) (param $b i32) (param $dst i32) (param $n i32)
    (call $elementwise (i32.const 2) (local.get $a) (local.get $b) (local.get $dst) (local.get $n)))
  (func (export "addRelu") (param $a i32) (param $b i32) (param $dst i32) (param $n i32)
    (call $elementwise (i32.const 3) (local.get $a) (local.get $b) (local.get $dst) (local.get $n)))
  ;; Blocks of $len floats, $a × $b of them, transposed: the block (x, y) at $src + (x·$b + y)·$len
  ;; floats goes to $dst + (y·$a + x)·$len, for x in [$from, $to), one bulk copy each. A conv net's
  ;; trunk output (channels × images × positions) as one row per image, and its gradient back:
  ;; 4,096 subarrays and sets in JavaScript cost 0.8 ms a cnn step, more than the copying.
  (func (export "transposeBlocks") (param $src i32) (param $dst i32) (param $a i32) (param $b i32) (param $len i32) (param $from i32) (param $to i32)
    (local $x i32) (local $y i32) (local $bytes i32)
    (local.set $bytes (i32.shl (local.get $len) (i32.const 2)))
    (local.set $x (local.get $from))
    (block $done
      (loop $xs
        (br_if $done (i32.ge_u (local.get $x) (local.get $to)))
        (local.set $y (i32.const 0))
        (block $row
          (loop $ys
            (br_if $row (i32.ge_u (local.get $y) (local.get $b)))
            (memory.copy
              (i32.add (local.get $dst) (i32.mul (i32.add (i32.mul (local.get $y) (local.get $a)) (local.get $x)) (local.get $bytes)))
              (i32.add (local.get $src) (i32.mul (i32.add (i32.mul (local.get $x) (local.get $b)) (local.get $y)) (local.get $bytes)))
              (local.get $bytes))
            (local.set $y (i32.add (local.get $y) (i32.const 1)))
            (br $ys)))
        (local.set $x (i32.add (local.get $x) (i32.const 1)))
        (br $xs))))
;; Winograd F(2×2, 3×3)'s output transform (winograd.ts, transformOutput) for one channel of one
  ;; image, four tiles of a tile row at a time: $m is the first tile's value in plane 0, planes lie
  ;; $plane bytes apart, and each tile's 2×2 outputs, plus $bias, go to the image at $y. Only for
  ;; even output sizes with tiles across a multiple of 4 (then every output lies inside the image).
  ;; Float32 lanes, where the twin sums in float64: within a few roundings.
  (func (export "winogradOutput") (param $m i32) (param $plane i32) (param $y i32) (param $th i32) (param $tw i32) (param $bias f32)
    (local $B v128) (local $row i32) (local $ty i32) (local $tx i32)
    (local $m0 v128) (local $m1 v128) (local $m2 v128) (local $m3 v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $d0 v128) (local $d1 v128) (local $d2 v128) (local $d3 v128)
    (local $s00 v128) (local $s01 v128) (local $s10 v128) (local $s11 v128)
    (local $p i32) (local $out i32)
    (local.set $B (f32x4.splat (local.get $bias)))
    ;; Output row stride: 2·tw floats.
    (local.set $row (i32.shl (local.get $tw) (i32.const 3)))
    (loop $rows
      (local.set $tx (i32.const 0))
      (local.set $out (i32.add (local.get $y) (i32.mul (local.get $ty) (i32.shl (local.get $row) (i32.const 1)))))
      (loop $tiles
        ;; Column j of Aᵀ m: a_j = m_j + m_{4+j} + m_{8+j}, d_j = m_{4+j} − m_{8+j} − m_{12+j}.
        (local.set $p (local.get $m))
        (local.set $m0 (v128.load (local.get $p)))
        (local.set $m1 (v128.load (local.tee $p (i32.add (local.get $p) (i32.shl (local.get $plane) (i32.const 2))))))
        (local.set $m2 (v128.load (local.tee $p (i32.add (local.get $p) (i32.shl (local.get $plane) (i32.const 2))))))
        (local.set $m3 (v128.load (local.tee $p (i32.add (local.get $p) (i32.shl (local.get $plane) (i32.const 2))))))
        (local.set $a0 (f32x4.add (f32x4.add (local.get $m0) (local.get $m1)) (local.get $m2)))
        (local.set $d0 (f32x4.sub (f32x4.sub (local.get $m1) (local.get $m2)) (local.get $m3)))
        (local.set $p (i32.add (local.get $m) (local.get $plane)))
        (local.set $m0 (v128.load (local.get $p)))
        (local.set $m1 (v128.load (local.tee $p (i32.add (local.get $p) (i32.shl (local.get $plane) (i32.const 2))))))
        (local.set $m2 (v128.load (local.tee $p (i32.add (local.get $p) (i32.shl (local.get $plane) (i32.const 2))))))
        (local.set $m3 (v128.load (local.tee $p (i32.add (local.get $p) (i32.shl (local.get $plane) (i32.const 2))))))
        (local.set $a1 (f32x4.add (f32x4.add (local.get $m0) (local.get $m1)) (local.get $m2)))
        (local.set $d1 (f32x4.sub (f32x4.sub (local.get $m1) (local.get $m2)) (local.get $m3)))
        (local.set $p (i32.add (local.get $m) (i32.shl (local.get $plane) (i32.const 1))))
        (local.set $m0 (v128.load (local.get $p)))
        (local.set $m1 (v128.load (local.tee $p (i32.add (local.get $p) (i32.shl (local.get $plane) (i32.const 2))))))
        (local.set $m2 (v128.load (local.tee $p (i32.add (local.get $p) (i32.shl (local.get $plane) (i32.const 2))))))
        (local.set $m3 (v128.load (local.tee $p (i32.add (local.get $p) (i32.shl (local.get $plane) (i32.const 2))))))
        (local.set $a2 (f32x4.add (f32x4.add (local.get $m0) (local.get $m1)) (local.get $m2)))
        (local.set $d2 (f32x4.sub (f32x4.sub (local.get $m1) (local.get $m2)) (local.get $m3)))
        (local.set $p (i32.add (local.get $m) (i32.mul (local.get $plane) (i32.const 3))))
        (local.set $m0 (v128.load (local.get $p)))
        (local.set $m1 (v128.load (local.tee $p (i32.add (local.get $p) (i32.shl (local.get $plane) (i32.const 2))))))
        (local.set $m2 (v128.load (local.tee $p (i32.add (local.get $p) (i32.shl (local.get $plane) (i32.const 2))))))
        (local.set $m3 (v128.load (local.tee $p (i32.add (local.get $p) (i32.shl (local.get $plane) (i32.const 2))))))
        (local.set $a3 (f32x4.add (f32x4.add (local.get $m0) (local.get $m1)) (local.get $m2)))
        (local.set $d3 (f32x4.sub (f32x4.sub (local.get $m1) (local.get $m2)) (local.get $m3)))
        ;; Then the same combination of each row's values, plus the bias.
        (local.set $s00 (f32x4.add (f32x4.add (f32x4.add (local.get $a0) (local.get $a1)) (local.get $a2)) (local.get $B)))
        (local.set $s01 (f32x4.add (f32x4.sub (f32x4.sub (local.get $a1) (local.get $a2)) (local.get $a3)) (local.get $B)))
        (local.set $s10 (f32x4.add (f32x4.add (f32x4.add (local.get $d0) (local.get $d1)) (local.get $d2)) (local.get $B)))
        (local.set $s11 (f32x4.add (f32x4.sub (f32x4.sub (local.get $d1) (local.get $d2)) (local.get $d3)) (local.get $B)))
        ;; Four tiles' 2×2 blocks side by side: (s00, s01) interleaved on the top row, (s10, s11) below.
        (v128.store (local.get $out)
          (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $s00) (local.get $s01)))
        (v128.store offset=16 (local.get $out)
          (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $s00) (local.get $s01)))
        (v128.store (i32.add (local.get $out) (local.get $row))
          (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $s10) (local.get $s11)))
        (v128.store offset=16 (i32.add (local.get $out) (local.get $row))
          (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $s10) (local.get $s11)))
        (local.set $m (i32.add (local.get $m) (i32.const 16)))
        (local.set $out (i32.add (local.get $out) (i32.const 32)))
        (br_if $tiles (i32.lt_u (local.tee $tx (i32.add (local.get $tx) (i32.const 4))) (local.get $tw))))
      (br_if $rows (i32.lt_u (local.tee $ty (i32.add (local.get $ty) (i32.const 1))) (local.get $th)))))

  ;; Its adjoint (transformOutputGradient): each 2×2 block e of dy, four tiles at a time, becomes
  ;; A e Aᵀ in the 16 planes at $d. Same conditions on the sizes.
  (func (export "winogradOutputGradient") (param $dy i32) (param $d i32) (param $plane i32) (param $th i32) (param $tw i32)
    (local $row i32) (local $ty i32) (local $tx i32) (local $in i32) (local $q i32)
    (local $top0 v128) (local $top1 v128) (local $bot0 v128) (local $bot1 v128)
    (local $e00 v128) (local $e01 v128) (local $e10 v128) (local $e11 v128)
    (local.set $row (i32.shl (local.get $tw) (i32.const 3)))
    (loop $rows
      (local.set $tx (i32.const 0))
      (local.set $in (i32.add (local.get $dy) (i32.mul (local.get $ty) (i32.shl (local.get $row) (i32.const 1)))))
      (loop $tiles
        (local.set $top0 (v128.load (local.get $in)))
        (local.set $top1 (v128.load offset=16 (local.get $in)))
        (local.set $bot0 (v128.load (i32.add (local.get $in) (local.get $row))))
        (local.set $bot1 (v128.load offset=16 (i32.add (local.get $in) (local.get $row))))
        ;; Even columns are each tile's left values, odd ones its right values.
        (local.set $e00 (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $top0) (local.get $top1)))
        (local.set $e01 (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $top0) (local.get $top1)))
        (local.set $e10 (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $bot0) (local.get $bot1)))
        (local.set $e11 (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $bot0) (local.get $bot1)))
        ;; Rows of A e: e0, e0 + e1, e0 − e1, −e1; each (p, q) then becomes (p, p + q, p − q, −q).
        (local.set $q (call $gradientRow (local.get $d) (local.get $plane) (local.get $e00) (local.get $e01)))
        (local.set $q (call $gradientRow (local.get $q) (local.get $plane)
          (f32x4.add (local.get $e00) (local.get $e10)) (f32x4.add (local.get $e01) (local.get $e11))))
        (local.set $q (call $gradientRow (local.get $q) (local.get $plane)
          (f32x4.sub (local.get $e00) (local.get $e10)) (f32x4.sub (local.get $e01) (local.get $e11))))
        (drop (call $gradientRow (local.get $q) (local.get $plane) (f32x4.neg (local.get $e10)) (f32x4.neg (local.get $e11))))
        (local.set $d (i32.add (local.get $d) (i32.const 16)))
        (local.set $in (i32.add (local.get $in) (i32.const 32)))
        (br_if $tiles (i32.lt_u (local.tee $tx (i32.add (local.get $tx) (i32.const 4))) (local.get $tw))))
      (br_if $rows (i32.lt_u (local.tee $ty (i32.add (local.get $ty) (i32.const 1))) (local.get $th)))))

  ;; (p, p + q, p − q, −q) into four planes from $at; returns the address four planes on.
  (func $gradientRow (param $at i32) (param $plane i32) (param $p v128) (param $q v128) (result i32)
    (v128.store (local.get $at) (local.get $p))
    (v128.store (local.tee $at (i32.add (local.get $at) (local.get $plane))) (f32x4.add (local.get $p) (local.get $q)))
    (v128.store (local.tee $at (i32.add (local.get $at) (local.get $plane))) (f32x4.sub (local.get $p) (local.get $q)))
    (v128.store (local.tee $at (i32.add (local.get $at) (local.get $plane))) (f32x4.neg (local.get $q)))
    (i32.add (local.get $at) (local.get $plane)))
;; Winograd's input transform (transformInput) for one channel of one image: every tile's
  ;; Bᵀ d B into the 16 planes from $v ($plane bytes apart), four tiles of a tile row at a time.
  ;; Each tile row's four image rows are first copied into $scratch with $pad zero columns on the
  ;; left and zeros past the right edge (rows outside the image are all zeros), so that every
  ;; tile reads the same way. $scratch holds 4 rows of w + 2·pad + 12 floats, this thread's own.
  (func (export "winogradInput") (param $image i32) (param $h i32) (param $w i32) (param $pad i32) (param $th i32) (param $tw i32)
      (param $v i32) (param $plane i32) (param $scratch i32)
    (local $L i32) (local $ty i32) (local $i i32) (local $y i32) (local $g i32) (local $x i32) (local $left i32) (local $q i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $b0 v128) (local $b1 v128) (local $b2 v128)
    (local $c0 v128) (local $c1 v128) (local $c2 v128) (local $d0 v128) (local $d1 v128) (local $d2 v128)
    (local.set $L (i32.shl (i32.add (i32.add (local.get $w) (i32.shl (local.get $pad) (i32.const 1))) (i32.const 12)) (i32.const 2)))
    (memory.fill (local.get $scratch) (i32.const 0) (i32.shl (local.get $L) (i32.const 2)))
    (loop $rows
      ;; The four rows from 2·ty − pad, at column $pad of each scratch row.
      (local.set $i (i32.const 0))
      (loop $copy
        (local.set $y (i32.add (i32.sub (i32.shl (local.get $ty) (i32.const 1)) (local.get $pad)) (local.get $i)))
        (local.set $x (i32.add (i32.add (local.get $scratch) (i32.mul (local.get $i) (local.get $L))) (i32.shl (local.get $pad) (i32.const 2))))
        (if (i32.and (i32.ge_s (local.get $y) (i32.const 0)) (i32.lt_s (local.get $y) (local.get $h)))
          (then (memory.copy (local.get $x) (i32.add (local.get $image) (i32.shl (i32.mul (local.get $y) (local.get $w)) (i32.const 2)))
            (i32.shl (local.get $w) (i32.const 2))))
          (else (memory.fill (local.get $x) (i32.const 0) (i32.shl (local.get $w) (i32.const 2)))))
        (br_if $copy (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 4))))
      (local.set $g (i32.const 0))
      (loop $tiles
        ;; Columns 8g … 8g + 11 of each row; Bᵀ d combines the rows: r0 − r2, r1 + r2, r2 − r1, r1 − r3.
        (local.set $x (i32.add (local.get $scratch) (i32.shl (local.get $g) (i32.const 5))))
        (call $rowPair (local.get $x) (local.get $L))
        (local.set $a0) (local.set $b0) (local.set $c0) (local.set $d0)
        (call $rowPair (i32.add (local.get $x) (i32.const 16)) (local.get $L))
        (local.set $a1) (local.set $b1) (local.set $c1) (local.set $d1)
        (call $rowPair (i32.add (local.get $x) (i32.const 32)) (local.get $L))
        (local.set $a2) (local.set $b2) (local.set $c2) (local.set $d2)
        (local.set $left (i32.sub (local.get $tw) (i32.shl (local.get $g) (i32.const 2))))
        (local.set $q (i32.add (local.get $v) (i32.shl (local.get $g) (i32.const 4))))
        (local.set $q (call $columns (local.get $q) (local.get $plane) (local.get $left) (local.get $a0) (local.get $a1) (local.get $a2)))
        (local.set $q (call $columns (local.get $q) (local.get $plane) (local.get $left) (local.get $b0) (local.get $b1) (local.get $b2)))
        (local.set $q (call $columns (local.get $q) (local.get $plane) (local.get $left) (local.get $c0) (local.get $c1) (local.get $c2)))
        (drop (call $columns (local.get $q) (local.get $plane) (local.get $left) (local.get $d0) (local.get $d1) (local.get $d2)))
        (br_if $tiles (i32.lt_u (local.tee $g (i32.add (local.get $g) (i32.const 1)))
          (i32.shr_u (i32.add (local.get $tw) (i32.const 3)) (i32.const 2)))))
      (local.set $v (i32.add (local.get $v) (i32.shl (local.get $tw) (i32.const 2))))
      (br_if $rows (i32.lt_u (local.tee $ty (i32.add (local.get $ty) (i32.const 1))) (local.get $th)))))

  ;; Four columns of the four scratch rows from $at ($L bytes apart), combined: (r1 − r3, r2 − r1,
  ;; r1 + r2, r0 − r2), in the reverse of the order the caller stores them (the stack's order).
  (func $rowPair (param $at i32) (param $L i32) (result v128 v128 v128 v128)
    (local $r0 v128) (local $r1 v128) (local $r2 v128) (local $r3 v128)
    (local.set $r0 (v128.load (local.get $at)))
    (local.set $r1 (v128.load (local.tee $at (i32.add (local.get $at) (local.get $L)))))
    (local.set $r2 (v128.load (local.tee $at (i32.add (local.get $at) (local.get $L)))))
    (local.set $r3 (v128.load (i32.add (local.get $at) (local.get $L))))
    (f32x4.sub (local.get $r1) (local.get $r3))
    (f32x4.sub (local.get $r2) (local.get $r1))
    (f32x4.add (local.get $r1) (local.get $r2))
    (f32x4.sub (local.get $r0) (local.get $r2)))

  ;; One row combination over columns 8g … 8g + 11 (p, q, r: four columns each) as four tiles'
  ;; (u0, u1, u2, u3) = columns (2j, 2j + 1, 2j + 2, 2j + 3) of tile j, then (u0 − u2, u1 + u2,
  ;; u2 − u1, u1 − u3) into four planes from $at, $left tiles of them at most. Returns the
  ;; address four planes on.
  (func $columns (param $at i32) (param $plane i32) (param $left i32) (param $p v128) (param $q v128) (param $r v128) (result i32)
    (local $u0 v128) (local $u1 v128) (local $u2 v128) (local $u3 v128) (local $even v128) (local $odd v128)
    (local.set $u0 (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $p) (local.get $q)))
    (local.set $u1 (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $p) (local.get $q)))
    (local.set $even (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $q) (local.get $r)))
    (local.set $odd (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $q) (local.get $r)))
    (local.set $u2 (i8x16.shuffle 8 9 10 11 16 17 18 19 20 21 22 23 24 25 26 27 (local.get $p) (local.get $even)))
    (local.set $u3 (i8x16.shuffle 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 (local.get $p) (local.get $odd)))
    (call $store (local.get $at) (local.get $left) (f32x4.sub (local.get $u0) (local.get $u2)))
    (call $store (local.tee $at (i32.add (local.get $at) (local.get $plane))) (local.get $left) (f32x4.add (local.get $u1) (local.get $u2)))
    (call $store (local.tee $at (i32.add (local.get $at) (local.get $plane))) (local.get $left) (f32x4.sub (local.get $u2) (local.get $u1)))
    (call $store (local.tee $at (i32.add (local.get $at) (local.get $plane))) (local.get $left) (f32x4.sub (local.get $u1) (local.get $u3)))
    (i32.add (local.get $at) (local.get $plane)))

  ;; The first min(4, $count) lanes of $x to $at.
  (func $store (param $at i32) (param $count i32) (param $x v128)
    (if (i32.ge_s (local.get $count) (i32.const 4)) (then (v128.store (local.get $at) (local.get $x)) (return)))
    (if (i32.ge_s (local.get $count) (i32.const 2))
      (then
        (v128.store64_lane 0 (local.get $at) (local.get $x))
        (if (i32.eq (local.get $count) (i32.const 3)) (then (v128.store32_lane offset=8 2 (local.get $at) (local.get $x)))))
      (else (v128.store32_lane 0 (local.get $at) (local.get $x)))))
;; The adjoint of the input transform (transformInputGradient) for one channel of one image:
  ;; each tile's B ∂V Bᵀ (its 4×4 block of ∂x) added where the tile came from, four tiles at a
  ;; time. Neighbouring tiles share two columns, and neighbouring tile rows two rows: within a
  ;; group the shared columns are added by shifting the third and fourth columns one tile on
  ;; (the group's last tile carries into the next group), and each tile row's last two rows wait in
  ;; $scratch until the next tile row has added its first two. Rows and columns in the padding
  ;; are dropped; every value of ∂x inside the image is written once. $scratch holds 4 rows of
  ;; 8·(⌈tw/4⌉ + 1) floats.
  (func (export "winogradInputGradient") (param $dv i32) (param $plane i32) (param $dx i32) (param $h i32) (param $w i32) (param $pad i32)
      (param $th i32) (param $tw i32) (param $scratch i32)
    (local $R i32) (local $ty i32) (local $g i32) (local $groups i32) (local $left i32) (local $i i32) (local $y i32) (local $t i32)
    (local $above0 i32) (local $above1 i32) (local $below0 i32) (local $below1 i32) (local $col i32)
    (local $mask v128)
    (local $o00 v128) (local $o01 v128) (local $o02 v128) (local $o03 v128)
    (local $o10 v128) (local $o11 v128) (local $o12 v128) (local $o13 v128)
    (local $o20 v128) (local $o21 v128) (local $o22 v128) (local $o23 v128)
    (local $o30 v128) (local $o31 v128) (local $o32 v128) (local $o33 v128)
    (local $p02 v128) (local $p03 v128) (local $p12 v128) (local $p13 v128)
    (local $p22 v128) (local $p23 v128) (local $p32 v128) (local $p33 v128)
    (local.set $groups (i32.add (i32.shr_u (i32.add (local.get $tw) (i32.const 3)) (i32.const 2)) (i32.const 1)))
    (local.set $R (i32.shl (local.get $groups) (i32.const 5)))
    (local.set $above0 (local.get $scratch))
    (local.set $above1 (i32.add (local.get $scratch) (local.get $R)))
    (local.set $below0 (i32.add (local.get $above1) (local.get $R)))
    (local.set $below1 (i32.add (local.get $below0) (local.get $R)))
    (memory.fill (local.get $scratch) (i32.const 0) (i32.shl (local.get $R) (i32.const 2)))
    (loop $rows
      (local.set $g (i32.const 0))
      (local.set $t (local.get $dv))
      ;; The previous group's third and fourth output columns (per row of the block): none before the first group.
      (local.set $p02 (v128.const i32x4 0 0 0 0)) (local.set $p03 (v128.const i32x4 0 0 0 0))
      (local.set $p12 (v128.const i32x4 0 0 0 0)) (local.set $p13 (v128.const i32x4 0 0 0 0))
      (local.set $p22 (v128.const i32x4 0 0 0 0)) (local.set $p23 (v128.const i32x4 0 0 0 0))
      (local.set $p32 (v128.const i32x4 0 0 0 0)) (local.set $p33 (v128.const i32x4 0 0 0 0))
      (loop $tiles
        ;; Lanes of tiles past the row's end (the last group, and one group of none after it) are 0.
        (local.set $left (i32.sub (local.get $tw) (i32.shl (local.get $g) (i32.const 2))))
        (local.set $mask (i32x4.lt_s (v128.const i32x4 0 1 2 3) (i32x4.splat (local.get $left))))
        ;; B ∂V by columns: column c is planes c, 4 + c, 8 + c, 12 + c.
        (call $adjointColumn (local.get $t) (local.get $plane) (local.get $mask))
        (local.set $o30) (local.set $o20) (local.set $o10) (local.set $o00)
        (call $adjointColumn (i32.add (local.get $t) (local.get $plane)) (local.get $plane) (local.get $mask))
        (local.set $o31) (local.set $o21) (local.set $o11) (local.set $o01)
        (call $adjointColumn (i32.add (local.get $t) (i32.shl (local.get $plane) (i32.const 1))) (local.get $plane) (local.get $mask))
        (local.set $o32) (local.set $o22) (local.set $o12) (local.set $o02)
        (call $adjointColumn (i32.add (local.get $t) (i32.mul (local.get $plane) (i32.const 3))) (local.get $plane) (local.get $mask))
        (local.set $o33) (local.set $o23) (local.set $o13) (local.set $o03)
        ;; Then along each row, and into the four scratch rows at columns 8g …: the first two rows
        ;; add to what the tile row above left there, the last two start afresh.
        (local.set $col (i32.shl (local.get $g) (i32.const 5)))
        (call $adjointRow (i32.add (local.get $above0) (local.get $col)) (i32.const 1) (local.get $o00) (local.get $o01) (local.get $o02) (local.get $o03) (local.get $p02) (local.get $p03))
        (local.set $p03) (local.set $p02)
        (call $adjointRow (i32.add (local.get $above1) (local.get $col)) (i32.const 1) (local.get $o10) (local.get $o11) (local.get $o12) (local.get $o13) (local.get $p12) (local.get $p13))
        (local.set $p13) (local.set $p12)
        (call $adjointRow (i32.add (local.get $below0) (local.get $col)) (i32.const 0) (local.get $o20) (local.get $o21) (local.get $o22) (local.get $o23) (local.get $p22) (local.get $p23))
        (local.set $p23) (local.set $p22)
        (call $adjointRow (i32.add (local.get $below1) (local.get $col)) (i32.const 0) (local.get $o30) (local.get $o31) (local.get $o32) (local.get $o33) (local.get $p32) (local.get $p33))
        (local.set $p33) (local.set $p32)
        (local.set $t (i32.add (local.get $t) (i32.const 16)))
        (br_if $tiles (i32.lt_u (local.tee $g (i32.add (local.get $g) (i32.const 1))) (local.get $groups))))
      ;; The tile row's first two rows are complete: into ∂x where inside the image.
      (local.set $y (i32.sub (i32.shl (local.get $ty) (i32.const 1)) (local.get $pad)))
      (call $rowOut (local.get $above0) (local.get $dx) (local.get $y) (local.get $h) (local.get $w) (local.get $pad))
      (call $rowOut (local.get $above1) (local.get $dx) (i32.add (local.get $y) (i32.const 1)) (local.get $h) (local.get $w) (local.get $pad))
      ;; Its last two rows wait for the next tile row.
      (local.set $i (local.get $above0)) (local.set $above0 (local.get $below0)) (local.set $below0 (local.get $i))
      (local.set $i (local.get $above1)) (local.set $above1 (local.get $below1)) (local.set $below1 (local.get $i))
      (local.set $dv (i32.add (local.get $dv) (i32.shl (local.get $tw) (i32.const 2))))
      (br_if $rows (i32.lt_u (local.tee $ty (i32.add (local.get $ty) (i32.const 1))) (local.get $th))))
    (local.set $y (i32.sub (i32.shl (local.get $th) (i32.const 1)) (local.get $pad)))
    (call $rowOut (local.get $above0) (local.get $dx) (local.get $y) (local.get $h) (local.get $w) (local.get $pad))
    (call $rowOut (local.get $above1) (local.get $dx) (i32.add (local.get $y) (i32.const 1)) (local.get $h) (local.get $w) (local.get $pad)))

  ;; One column (planes at $at, $at + 4·plane, …; lanes off $mask zeroed) of B ∂V:
  ;; (v0, v1 − v2 + v3, v1 + v2 − v0, −v3), returned in that order.
  (func $adjointColumn (param $at i32) (param $plane i32) (param $mask v128) (result v128 v128 v128 v128)
    (local $v0 v128) (local $v1 v128) (local $v2 v128) (local $v3 v128) (local $step i32)
    (local.set $step (i32.shl (local.get $plane) (i32.const 2)))
    (local.set $v0 (v128.and (local.get $mask) (v128.load (local.get $at))))
    (local.set $v1 (v128.and (local.get $mask) (v128.load (local.tee $at (i32.add (local.get $at) (local.get $step))))))
    (local.set $v2 (v128.and (local.get $mask) (v128.load (local.tee $at (i32.add (local.get $at) (local.get $step))))))
    (local.set $v3 (v128.and (local.get $mask) (v128.load (i32.add (local.get $at) (local.get $step)))))
    (local.get $v0)
    (f32x4.add (f32x4.sub (local.get $v1) (local.get $v2)) (local.get $v3))
    (f32x4.sub (f32x4.add (local.get $v1) (local.get $v2)) (local.get $v0))
    (f32x4.neg (local.get $v3)))

;; One row (u0 … u3, four tiles each) of B ∂V times Bᵀ, y = (u0, u1 − u2 + u3, u1 + u2 − u0, −u3),
  ;; as 8 columns from $at: column 2j takes tile j's y0 and tile j − 1's y2, column 2j + 1 its y1
  ;; and tile j − 1's y3 ($py2, $py3: the previous group's, whose last tile is tile −1 here).
  ;; Added to the row when $add, else stored. Returns this group's y2 and y3.
  (func $adjointRow (param $at i32) (param $add i32) (param $u0 v128) (param $u1 v128) (param $u2 v128) (param $u3 v128)
      (param $py2 v128) (param $py3 v128) (result v128 v128)
    (local $y2 v128) (local $y3 v128) (local $even v128) (local $odd v128) (local $lo v128) (local $hi v128)
    (local.set $y2 (f32x4.sub (f32x4.add (local.get $u1) (local.get $u2)) (local.get $u0)))
    (local.set $y3 (f32x4.neg (local.get $u3)))
    (local.set $even (f32x4.add (local.get $u0)
      (i8x16.shuffle 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 (local.get $py2) (local.get $y2))))
    (local.set $odd (f32x4.add (f32x4.add (f32x4.sub (local.get $u1) (local.get $u2)) (local.get $u3))
      (i8x16.shuffle 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 (local.get $py3) (local.get $y3))))
    (local.set $lo (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $even) (local.get $odd)))
    (local.set $hi (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $even) (local.get $odd)))
    (if (local.get $add)
      (then
        (local.set $lo (f32x4.add (v128.load (local.get $at)) (local.get $lo)))
        (local.set $hi (f32x4.add (v128.load offset=16 (local.get $at)) (local.get $hi)))))
    (v128.store (local.get $at) (local.get $lo))
    (v128.store offset=16 (local.get $at) (local.get $hi))
    (local.get $y2)
    (local.get $y3))

  ;; A finished scratch row into row $y of ∂x, if the image has that row (its columns from $pad).
  (func $rowOut (param $row i32) (param $dx i32) (param $y i32) (param $h i32) (param $w i32) (param $pad i32)
    (if (i32.and (i32.ge_s (local.get $y) (i32.const 0)) (i32.lt_s (local.get $y) (local.get $h)))
      (then (memory.copy (i32.add (local.get $dx) (i32.shl (i32.mul (local.get $y) (local.get $w)) (i32.const 2)))
        (i32.add (local.get $row) (i32.shl (local.get $pad) (i32.const 2))) (i32.shl (local.get $w) (i32.const 2))))))
)
