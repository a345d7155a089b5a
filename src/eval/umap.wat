;; UMAP's layout SGD (umap.ts, optimizeLayout), one epoch per call: each due edge pulls its
;; ends together along 1/(1 + a d^(2b)) and pushes its head away from random points. In JavaScript
;; the time went to Math.exp and Math.log (about 25 ns a pair, for each of 14 million samples on
;; 3,000 points); here d²ᵇ comes from tables within 1.1e-9 of exp(b ln d²). One call per epoch, not
;; one for all: V8 moves a hot function to its optimising tier only for calls after it got hot.
;;
;; Memory: $power's tables (bytes 0..20479), then at byte offsets from JavaScript y as x, y pairs of f64; per edge (only those ever
;; sampled) the f64 epochs per sample, next sample, epochs per negative sample and next negative sample; head and tail as i32;
;; and the xoshiro128** state (four i32, as random.ts's Rng steps it).
(module
  (import "env" "memory" (memory 1))

;; umap-learn's curve for min_dist 0.1, spread 1 (find_ab_params): 1 / (1 + a d^(2b)).
  (global $A f64 (f64.const 1.5769434603113077))
  (global $B f64 (f64.const 0.8950608781227859))
  ;; B (B - 1) / 2
  (global $C f64 (f64.const -0.046963451288426654))

;; x^B for finite x > 0 from three tables JavaScript fills at the start of memory: with x = 2^e m,
  ;; m = m0 (1 + u) where m0 = 1 + i/256 holds m's top eight fraction bits, x^B = 2^(eB) m0^B (1 + u)^B,
  ;; and u < 1/256 leaves (1 + u)^B = 1 + Bu + B(B - 1)/2 u^2 within 1.1e-9. A short chain of
  ;; multiplies: each negative sample's distance waits on the previous sample's step, and the
  ;; polynomials of exp and log (or Math.exp and Math.log) took 45 ns a call here.
  ;;   bytes 0..16383: 2^((b - 1023) B) for each biased exponent b;
  ;;   16384..18431: m0^B for i = 0..255;   18432..20479: 2^-52 / m0.
  (func $power (export "power") (param $x f64) (result f64)
    (local $bits i64) (local $i i32) (local $u f64) (local $scale f64)
    (local.set $scale (f64.const 1))
    ;; Subnormal x (below 2^-1022): scaled by 2^54 first, so that its exponent field is a real one.
    (if (f64.lt (local.get $x) (f64.const 2.2250738585072014e-308))
      (then
        (local.set $x (f64.mul (local.get $x) (f64.const 18014398509481984)))
        (local.set $scale (f64.load (i32.const 7752)))))  ;; 2^(-54 B), the table's entry for b = 1023 - 54
    (local.set $bits (i64.reinterpret_f64 (local.get $x)))
    (local.set $i (i32.wrap_i64 (i64.and (i64.shr_u (local.get $bits) (i64.const 44)) (i64.const 255))))
    (local.set $u
      (f64.mul (f64.convert_i64_u (i64.and (local.get $bits) (i64.const 0xfffffffffff)))
        (f64.load offset=18432 (i32.shl (local.get $i) (i32.const 3)))))
    (f64.mul
      (f64.mul
        (f64.mul (f64.load (i32.wrap_i64 (i64.shl (i64.shr_u (local.get $bits) (i64.const 52)) (i64.const 3))))
          (f64.load offset=16384 (i32.shl (local.get $i) (i32.const 3))))
        (local.get $scale))
      (f64.add (f64.const 1)
        (f64.mul (local.get $u)
          (f64.add (global.get $B) (f64.mul (local.get $u) (global.get $C)))))))

  ;; umap-learn's clip: into [−4, 4].
  (func $clip (param $v f64) (result f64)
    (f64.min (f64.const 4) (f64.max (f64.const -4) (local.get $v))))

  (func (export "optimize")
    (param $y i32) (param $n i32) (param $head i32) (param $tail i32)
    (param $per i32) (param $next i32) (param $perNeg i32) (param $nextNeg i32)
    (param $edges i32) (param $epoch i32) (param $epochs i32) (param $state i32)
    (local $e i32) (local $fe f64) (local $alpha f64)
    (local $perE f64) (local $nextE f64) (local $pn f64) (local $nn f64) (local $negatives f64)
    (local $j i32) (local $k i32) (local $other i32) (local $count i32)
    (local $dx f64) (local $dy f64) (local $d2 f64) (local $pw f64) (local $coeff f64) (local $gx f64) (local $gy f64)
    (local $s0 i32) (local $s1 i32) (local $s2 i32) (local $s3 i32) (local $t i32) (local $draw i32)
    (local.set $s0 (i32.load (local.get $state)))
    (local.set $s1 (i32.load offset=4 (local.get $state)))
    (local.set $s2 (i32.load offset=8 (local.get $state)))
    (local.set $s3 (i32.load offset=12 (local.get $state)))
        (local.set $fe (f64.convert_i32_s (local.get $epoch)))
        (local.set $alpha (f64.sub (f64.const 1) (f64.div (local.get $fe) (f64.convert_i32_s (local.get $epochs)))))
        (local.set $e (i32.const 0))
        (block $edgesDone
          (loop $nextEdge
            (br_if $edgesDone (i32.ge_s (local.get $e) (local.get $edges)))
            (local.set $perE (f64.load (i32.add (local.get $per) (i32.shl (local.get $e) (i32.const 3)))))
            (local.set $nextE (f64.load (i32.add (local.get $next) (i32.shl (local.get $e) (i32.const 3)))))
            (if (f64.le (local.get $nextE) (local.get $fe))
              (then
                (local.set $j (i32.add (local.get $y) (i32.shl (i32.load (i32.add (local.get $head) (i32.shl (local.get $e) (i32.const 2)))) (i32.const 4))))
                (local.set $k (i32.add (local.get $y) (i32.shl (i32.load (i32.add (local.get $tail) (i32.shl (local.get $e) (i32.const 2)))) (i32.const 4))))
                (local.set $dx (f64.sub (f64.load (local.get $j)) (f64.load (local.get $k))))
                (local.set $dy (f64.sub (f64.load offset=8 (local.get $j)) (f64.load offset=8 (local.get $k))))
                (local.set $d2 (f64.add (f64.mul (local.get $dx) (local.get $dx)) (f64.mul (local.get $dy) (local.get $dy))))
                (if (f64.gt (local.get $d2) (f64.const 0))
                  (then
                    ;; coeff = −2ab (d2^b / d2) / (a d2^b + 1), the attraction's gradient
                    (local.set $pw (call $power (local.get $d2)))
                    (local.set $coeff
                      (f64.div
                        (f64.mul (f64.mul (f64.mul (f64.const -2) (global.get $A)) (global.get $B)) (f64.div (local.get $pw) (local.get $d2)))
                        (f64.add (f64.mul (global.get $A) (local.get $pw)) (f64.const 1))))
                    (local.set $gx (f64.mul (call $clip (f64.mul (local.get $coeff) (local.get $dx))) (local.get $alpha)))
                    (local.set $gy (f64.mul (call $clip (f64.mul (local.get $coeff) (local.get $dy))) (local.get $alpha)))
                    (f64.store (local.get $j) (f64.add (f64.load (local.get $j)) (local.get $gx)))
                    (f64.store offset=8 (local.get $j) (f64.add (f64.load offset=8 (local.get $j)) (local.get $gy)))
                    (f64.store (local.get $k) (f64.sub (f64.load (local.get $k)) (local.get $gx)))
                    (f64.store offset=8 (local.get $k) (f64.sub (f64.load offset=8 (local.get $k)) (local.get $gy)))))
                (f64.store (i32.add (local.get $next) (i32.shl (local.get $e) (i32.const 3))) (f64.add (local.get $nextE) (local.get $perE)))
                (local.set $pn (f64.load (i32.add (local.get $perNeg) (i32.shl (local.get $e) (i32.const 3)))))
                (local.set $nn (f64.load (i32.add (local.get $nextNeg) (i32.shl (local.get $e) (i32.const 3)))))
                (local.set $negatives (f64.floor (f64.div (f64.sub (local.get $fe) (local.get $nn)) (local.get $pn))))
                (local.set $count (i32.trunc_f64_s (local.get $negatives)))
                (block $negativesDone
                  (loop $nextNegative
                    (br_if $negativesDone (i32.le_s (local.get $count) (i32.const 0)))
                    (local.set $count (i32.sub (local.get $count) (i32.const 1)))
                    ;; xoshiro128**: the draw rotl(s1·5, 7)·9, then the state's step
                    (local.set $draw (i32.mul (i32.rotl (i32.mul (local.get $s1) (i32.const 5)) (i32.const 7)) (i32.const 9)))
                    (local.set $t (i32.shl (local.get $s1) (i32.const 9)))
                    (local.set $s2 (i32.xor (local.get $s2) (local.get $s0)))
                    (local.set $s3 (i32.xor (local.get $s3) (local.get $s1)))
                    (local.set $s1 (i32.xor (local.get $s1) (local.get $s2)))
                    (local.set $s0 (i32.xor (local.get $s0) (local.get $s3)))
                    (local.set $s2 (i32.xor (local.get $s2) (local.get $t)))
                    (local.set $s3 (i32.rotl (local.get $s3) (i32.const 11)))
                    ;; the point floor(draw · n / 2^32), by multiply and shift
                    (local.set $other
                      (i32.add (local.get $y)
                        (i32.shl
                          (i32.wrap_i64 (i64.shr_u (i64.mul (i64.extend_i32_u (local.get $draw)) (i64.extend_i32_u (local.get $n))) (i64.const 32)))
                          (i32.const 4))))
                    (if (i32.ne (local.get $other) (local.get $j))
                      (then
                        (local.set $dx (f64.sub (f64.load (local.get $j)) (f64.load (local.get $other))))
                        (local.set $dy (f64.sub (f64.load offset=8 (local.get $j)) (f64.load offset=8 (local.get $other))))
                        (local.set $d2 (f64.add (f64.mul (local.get $dx) (local.get $dx)) (f64.mul (local.get $dy) (local.get $dy))))
                        (if (f64.gt (local.get $d2) (f64.const 0))
                          (then
                            ;; coeff = 2b / ((0.001 + d2)(a d2^b + 1)), the repulsion's gradient
                            (local.set $coeff
                              (f64.div (f64.mul (f64.const 2) (global.get $B))
                                (f64.mul (f64.add (f64.const 0.001) (local.get $d2))
                                  (f64.add (f64.mul (global.get $A) (call $power (local.get $d2))) (f64.const 1)))))
                            (f64.store (local.get $j) (f64.add (f64.load (local.get $j)) (f64.mul (call $clip (f64.mul (local.get $coeff) (local.get $dx))) (local.get $alpha))))
                            (f64.store offset=8 (local.get $j) (f64.add (f64.load offset=8 (local.get $j)) (f64.mul (call $clip (f64.mul (local.get $coeff) (local.get $dy))) (local.get $alpha)))))
                          (else
                            (f64.store (local.get $j) (f64.add (f64.load (local.get $j)) (f64.mul (f64.const 4) (local.get $alpha))))
                            (f64.store offset=8 (local.get $j) (f64.add (f64.load offset=8 (local.get $j)) (f64.mul (f64.const 4) (local.get $alpha))))))))
                    (br $nextNegative)))
                (f64.store (i32.add (local.get $nextNeg) (i32.shl (local.get $e) (i32.const 3)))
                  (f64.add (local.get $nn) (f64.mul (local.get $negatives) (local.get $pn))))))
            (local.set $e (i32.add (local.get $e) (i32.const 1)))
            (br $nextEdge)))
    (i32.store (local.get $state) (local.get $s0))
    (i32.store offset=4 (local.get $state) (local.get $s1))
    (i32.store offset=8 (local.get $state) (local.get $s2))
    (i32.store offset=12 (local.get $state) (local.get $s3))))
