;; The passes of k-means++ seeding over every point (kmeans-plus-plus.ts), two points at a time in
;; float64 lanes: each candidate centre's potential, and the nearest-centre update. In JavaScript
;; they were most of ALFA-Mix's selection (1,000 centres, 8 candidates each, over 6,568 points:
;; 52 million distances). Squared distances come from norms and inner products as
;; max(‖x‖² + ‖c‖² − 2 x·c, 0), with the float32 inputs widened, as the JavaScript computed them.
;; Minima and maxima are f64x2.pmin and pmax (one instruction each; f64x2.min and max spend several
;; on NaN and −0, which never occur here): the seeding of 1,000 centres over 6,568 points through
;; its Gram matrix took 67 ms against 114.
;;
;; Memory (byte offsets from JavaScript): closest (f64 n), weights (f64 n), cumulative (f64 n),
;; norms (f32 n), and the inner products of each candidate with every point (f32, n per candidate).
;; Nothing is read past an array's end: an odd last point goes through $distance, one lane.
(module
  (import "env" "memory" (memory 1))

  ;; max(‖x_i‖² + normC − 2 dot_i, 0) for points i and i + 1
  (func $distances (param $norms i32) (param $dots i32) (param $i i32) (param $normC v128) (result v128)
    (f64x2.pmax
      (f64x2.sub
        (f64x2.add (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $norms) (i32.shl (local.get $i) (i32.const 2))))) (local.get $normC))
        (f64x2.mul (f64x2.promote_low_f32x4 (v128.load64_zero (i32.add (local.get $dots) (i32.shl (local.get $i) (i32.const 2))))) (f64x2.splat (f64.const 2))))
      (f64x2.splat (f64.const 0))))

  ;; The same for point i alone.
  (func $distance (param $norms i32) (param $dots i32) (param $i i32) (param $normC f64) (result f64)
    (f64.max
      (f64.sub
        (f64.add (f64.promote_f32 (f32.load (i32.add (local.get $norms) (i32.shl (local.get $i) (i32.const 2))))) (local.get $normC))
        (f64.mul (f64.promote_f32 (f32.load (i32.add (local.get $dots) (i32.shl (local.get $i) (i32.const 2))))) (f64.const 2)))
      (f64.const 0)))

  ;; The potential if the point whose inner products start at $dots (and whose squared norm is
  ;; $normC) joined the centres: Σ_i weight_i min(closest_i, distance_i). Two sums (even and odd
  ;; points), added at the end.
  (func (export "potential")
    (param $closest i32) (param $weights i32) (param $norms i32) (param $dots i32) (param $n i32) (param $normC f64)
    (result f64)
    (local $i i32) (local $at i32) (local $sum v128) (local $c v128) (local $total f64) (local $d f64)
    (local.set $c (f64x2.splat (local.get $normC)))
    (block $done
      (loop $next
        (br_if $done (i32.gt_s (i32.add (local.get $i) (i32.const 2)) (local.get $n)))
        (local.set $at (i32.shl (local.get $i) (i32.const 3)))
        (local.set $sum
          (f64x2.add (local.get $sum)
            (f64x2.mul (v128.load (i32.add (local.get $weights) (local.get $at)))
              (f64x2.pmin (v128.load (i32.add (local.get $closest) (local.get $at)))
                (call $distances (local.get $norms) (local.get $dots) (local.get $i) (local.get $c))))))
        (local.set $i (i32.add (local.get $i) (i32.const 2)))
        (br $next)))
    (local.set $total (f64.add (f64x2.extract_lane 0 (local.get $sum)) (f64x2.extract_lane 1 (local.get $sum))))
    ;; an odd last point
    (if (i32.lt_s (local.get $i) (local.get $n))
      (then
        (local.set $at (i32.shl (local.get $i) (i32.const 3)))
        (local.set $d (call $distance (local.get $norms) (local.get $dots) (local.get $i) (local.get $normC)))
        (local.set $total
          (f64.add (local.get $total)
            (f64.mul (f64.load (i32.add (local.get $weights) (local.get $at)))
              (f64.min (f64.load (i32.add (local.get $closest) (local.get $at))) (local.get $d)))))))
    (local.get $total))

  ;; closest_i ← min(closest_i, distance_i) to the new centre whose inner products start at $dots.
  (func (export "update")
    (param $closest i32) (param $norms i32) (param $dots i32) (param $n i32) (param $normC f64)
    (local $i i32) (local $at i32) (local $c v128)
    (local.set $c (f64x2.splat (local.get $normC)))
    (block $done
      (loop $next
        (br_if $done (i32.gt_s (i32.add (local.get $i) (i32.const 2)) (local.get $n)))
        (local.set $at (i32.add (local.get $closest) (i32.shl (local.get $i) (i32.const 3))))
        (v128.store (local.get $at)
          (f64x2.pmin (v128.load (local.get $at)) (call $distances (local.get $norms) (local.get $dots) (local.get $i) (local.get $c))))
        (local.set $i (i32.add (local.get $i) (i32.const 2)))
        (br $next)))
    (if (i32.lt_s (local.get $i) (local.get $n))
      (then
        (local.set $at (i32.add (local.get $closest) (i32.shl (local.get $i) (i32.const 3))))
        (f64.store (local.get $at)
          (f64.min (f64.load (local.get $at)) (call $distance (local.get $norms) (local.get $dots) (local.get $i) (local.get $normC)))))))

  ;; cumulative_i = Σ_{j ≤ i} weight_j closest_j, in order (the draw of the next centre searches
  ;; it); returns the total.
  (func (export "prefix") (param $closest i32) (param $weights i32) (param $cumulative i32) (param $n i32) (result f64)
    (local $at i32) (local $end i32) (local $total f64)
    (local.set $end (i32.shl (local.get $n) (i32.const 3)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $at) (local.get $end)))
        (local.set $total
          (f64.add (local.get $total)
            (f64.mul (f64.load (i32.add (local.get $weights) (local.get $at))) (f64.load (i32.add (local.get $closest) (local.get $at))))))
        (f64.store (i32.add (local.get $cumulative) (local.get $at)) (local.get $total))
        (local.set $at (i32.add (local.get $at) (i32.const 8)))
        (br $next)))
    (local.get $total)))
