;; The passes of k-means++ seeding in blocks (kmeansPlusPlusInBlocks in kmeans-plus-plus.ts), four
;; points at a time in float32 lanes: a candidate's gain, Σ_i max(closest_i − distance_i, 0), and
;; the nearest-centre update, which keeps which centre is nearest. A gain sums only the few points
;; a candidate would take, so float32 holds it where a potential (Σ_i min(closest_i, distance_i),
;; thousands of terms) would not; the largest gain is the smallest potential. Squared distances
;; come from norms and inner products as max(‖x‖² + ‖c‖² − 2 x·c, 0), as in seeding.wat, in float32.
;; Maxima are f32x4.pmax (a < b ? b : a): one instruction, where f32x4.max's NaN and −0 rules take
;; several, and the gain pass ran 2.8× slower (0.8 against 0.28 ns a point). From finite
;; coordinates nothing here is NaN or −0, so the two agree (the driver rejects non-finite distances).
;;
;; Memory (byte offsets from JavaScript): closest (f32 n), nearest (i32 n), norms (f32 n), the
;; inner products of each candidate with every point (f32 n a candidate), then a centre's trials
;; (their rows, i32, and squared norms, f32). The last n mod 4 points go one lane at a time, so
;; nothing is read past an array's end.
(module
  (import "env" "memory" (memory 1))

  ;; max(‖x_i‖² + normC − 2 dot_i, 0) for points i … i + 3
  (func $distances (param $norms i32) (param $dots i32) (param $at i32) (param $normC v128) (result v128)
    (f32x4.pmax
      (f32x4.sub
        (f32x4.add (v128.load (i32.add (local.get $norms) (local.get $at))) (local.get $normC))
        (f32x4.mul (v128.load (i32.add (local.get $dots) (local.get $at))) (f32x4.splat (f32.const 2))))
      (f32x4.splat (f32.const 0))))

  ;; The same for the point at byte offset $at alone.
  (func $distance (param $norms i32) (param $dots i32) (param $at i32) (param $normC f32) (result f32)
    (f32.max
      (f32.sub
        (f32.add (f32.load (i32.add (local.get $norms) (local.get $at))) (local.get $normC))
        (f32.mul (f32.load (i32.add (local.get $dots) (local.get $at))) (f32.const 2)))
      (f32.const 0)))

;; Four lane sums and a tail sum added in float64, in that order.
  (func $total (param $sum v128) (param $tail f32) (result f64)
    (f64.add
      (f64.add
        (f64.add
          (f64.add (f64.promote_f32 (f32x4.extract_lane 0 (local.get $sum))) (f64.promote_f32 (f32x4.extract_lane 1 (local.get $sum))))
          (f64.promote_f32 (f32x4.extract_lane 2 (local.get $sum))))
        (f64.promote_f32 (f32x4.extract_lane 3 (local.get $sum))))
      (f64.promote_f32 (local.get $tail))))

  ;; Σ_i max(closest_i − distance_i, 0) for the candidate whose inner products start at $dots: four
  ;; lane sums over points i ≡ 0, 1, 2, 3 (mod 4) up to the last multiple of 4, then one sum of the
  ;; rest; added in float64 in that order.
  (func $gain (param $closest i32) (param $norms i32) (param $dots i32) (param $n i32) (param $normC f32) (result f64)
    (local $at i32) (local $end i32) (local $sum v128) (local $c v128) (local $tail f32)
    (local.set $c (f32x4.splat (local.get $normC)))
    (local.set $end (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $at) (local.get $end)))
        (local.set $sum
          (f32x4.add (local.get $sum)
            (f32x4.pmax
              (f32x4.sub (v128.load (i32.add (local.get $closest) (local.get $at)))
                (call $distances (local.get $norms) (local.get $dots) (local.get $at) (local.get $c)))
              (f32x4.splat (f32.const 0)))))
        (local.set $at (i32.add (local.get $at) (i32.const 16)))
        (br $next)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $at) (local.get $end)))
        (local.set $tail
          (f32.add (local.get $tail)
            (f32.max
              (f32.sub (f32.load (i32.add (local.get $closest) (local.get $at)))
                (call $distance (local.get $norms) (local.get $dots) (local.get $at) (local.get $normC)))
              (f32.const 0))))
        (local.set $at (i32.add (local.get $at) (i32.const 4)))
        (br $next)))
    (call $total (local.get $sum) (local.get $tail)))

  ;; Of $count candidates (row numbers at $rows, i32; squared norms at $normCs, f32; each row's
  ;; inner products $rowBytes apart from $dots), the first with the largest gain: one call per
  ;; centre where a call per candidate paid JavaScript's entry into WebAssembly each time.
  (func (export "best") (param $closest i32) (param $norms i32) (param $dots i32) (param $n i32) (param $rowBytes i32) (param $rows i32) (param $normCs i32) (param $count i32) (result i32)
    (local $j i32) (local $g f64) (local $bestGain f64) (local $best i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $j) (local.get $count)))
        (local.set $g
          (call $gain (local.get $closest) (local.get $norms)
            (i32.add (local.get $dots) (i32.mul (i32.load (i32.add (local.get $rows) (i32.shl (local.get $j) (i32.const 2)))) (local.get $rowBytes)))
            (local.get $n)
            (f32.load (i32.add (local.get $normCs) (i32.shl (local.get $j) (i32.const 2))))))
        (if (i32.or (i32.eqz (local.get $j)) (f64.gt (local.get $g) (local.get $bestGain)))
          (then
            (local.set $best (local.get $j))
            (local.set $bestGain (local.get $g))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $next)))
    (local.get $best))

  ;; closest_i ← distance_i and nearest_i ← $centre where distance_i < closest_i, for the new centre
  ;; whose inner products start at $dots: the seeds' clustering, which Lloyd's first pass reads.
  ;; Returns the new Σ_i closest_i, summed as the gain is (its bits serve only a threshold).
  (func (export "lower") (param $closest i32) (param $nearest i32) (param $norms i32) (param $dots i32) (param $n i32) (param $normC f32) (param $centre i32) (result f64)
    (local $at i32) (local $end i32) (local $c v128) (local $d v128) (local $nearer v128) (local $kept v128) (local $sum v128) (local $p i32) (local $q i32) (local $dd f32) (local $tail f32)
    (local.set $c (f32x4.splat (local.get $normC)))
    (local.set $end (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $at) (local.get $end)))
        (local.set $p (i32.add (local.get $closest) (local.get $at)))
        (local.set $q (i32.add (local.get $nearest) (local.get $at)))
        (local.set $d (call $distances (local.get $norms) (local.get $dots) (local.get $at) (local.get $c)))
        (local.set $nearer (f32x4.lt (local.get $d) (v128.load (local.get $p))))
        (local.set $kept (v128.bitselect (local.get $d) (v128.load (local.get $p)) (local.get $nearer)))
        (v128.store (local.get $p) (local.get $kept))
        (v128.store (local.get $q) (v128.bitselect (i32x4.splat (local.get $centre)) (v128.load (local.get $q)) (local.get $nearer)))
        (local.set $sum (f32x4.add (local.get $sum) (local.get $kept)))
        (local.set $at (i32.add (local.get $at) (i32.const 16)))
        (br $next)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $at) (local.get $end)))
        (local.set $p (i32.add (local.get $closest) (local.get $at)))
        (local.set $dd (call $distance (local.get $norms) (local.get $dots) (local.get $at) (local.get $normC)))
        (if (f32.lt (local.get $dd) (f32.load (local.get $p)))
          (then
            (f32.store (local.get $p) (local.get $dd))
            (i32.store (i32.add (local.get $nearest) (local.get $at)) (local.get $centre))))
        (local.set $tail (f32.add (local.get $tail) (f32.load (local.get $p))))
        (local.set $at (i32.add (local.get $at) (i32.const 4)))
        (br $next)))
    (call $total (local.get $sum) (local.get $tail))))
