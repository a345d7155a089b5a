;; im2col and col2im at stride 2 (columns.ts has their twins), one input channel a call, over
;; buffers in the shared arena (arena.ts). The twins' strided loops moved one value at a time;
;; here four outputs at a time: im2col takes the even lanes of eight input values, and col2im adds
;; four column values into the even lanes of eight input-gradient values (+0 into the odd ones,
;; which leaves their bits as they are: the gradient starts at +0 and so is never −0). Both touch
;; only values inside the row, and give the twins' bits. Pointers are byte addresses.
(module
  (import "env" "memory" (memory 1 65536 shared))

  ;; Output columns ox whose input column 2·ox − p + kx lies inside the image: [lo, hi), packed as lo | hi << 16.
  (func $span (param $w i32) (param $p i32) (param $kx i32) (param $ow i32) (result i32)
    (local $lo i32) (local $hi i32)
    ;; lo = min(ow, max(0, ceil((p − kx)/2))), hi = min(ow, floor((w − 1 + p − kx)/2) + 1), and hi ≥ lo.
    (local.set $lo (i32.sub (i32.const 0) (i32.shr_s (i32.sub (local.get $kx) (local.get $p)) (i32.const 1))))
    (if (i32.lt_s (local.get $lo) (i32.const 0)) (then (local.set $lo (i32.const 0))))
    ;; (A row narrower than the left padding's reach has no inside at all: lo = hi = ow.)
    (if (i32.gt_s (local.get $lo) (local.get $ow)) (then (local.set $lo (local.get $ow))))
    (local.set $hi (i32.add (i32.shr_s (i32.sub (i32.add (local.get $w) (local.get $p)) (i32.add (local.get $kx) (i32.const 1))) (i32.const 1)) (i32.const 1)))
    (if (i32.gt_s (local.get $hi) (local.get $ow)) (then (local.set $hi (local.get $ow))))
    (if (i32.lt_s (local.get $hi) (local.get $lo)) (then (local.set $hi (local.get $lo))))
    (i32.or (local.get $lo) (i32.shl (local.get $hi) (i32.const 16))))

  ;; Rows (ky·k + kx) of one channel's block of columns at $out (n·oh·ow floats a row) from its $n
  ;; images at $x (h × w each): the input at (2·oy − p + ky, 2·ox − p + kx), or 0 in the padding.
  (func (export "columnsStride2") (param $x i32) (param $n i32) (param $h i32) (param $w i32) (param $k i32) (param $p i32)
    (param $oh i32) (param $ow i32) (param $out i32)
    (local $ky i32) (local $kx i32) (local $b i32) (local $oy i32) (local $iy i32) (local $ox i32)
    (local $lo i32) (local $hi i32) (local $span i32) (local $dst i32) (local $src i32) (local $rowBytes i32)
    (local.set $rowBytes (i32.shl (local.get $ow) (i32.const 2)))
    (local.set $dst (local.get $out))
    (loop $taps
      (local.set $span (call $span (local.get $w) (local.get $p) (local.get $kx) (local.get $ow)))
      (local.set $lo (i32.and (local.get $span) (i32.const 0xffff)))
      (local.set $hi (i32.shr_u (local.get $span) (i32.const 16)))
      (local.set $b (i32.const 0))
      (loop $images
        (local.set $oy (i32.const 0))
        (loop $rows
          (local.set $iy (i32.add (i32.sub (i32.shl (local.get $oy) (i32.const 1)) (local.get $p)) (local.get $ky)))
          (if (i32.or (i32.lt_s (local.get $iy) (i32.const 0)) (i32.ge_s (local.get $iy) (local.get $h)))
            (then (memory.fill (local.get $dst) (i32.const 0) (local.get $rowBytes)))
            (else
              ;; The input value of output column 0 (its column −p + kx, outside the row when negative: only read from lo on).
              (local.set $src (i32.add (local.get $x)
                (i32.shl (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $h)) (local.get $iy)) (local.get $w))
                  (i32.sub (local.get $kx) (local.get $p))) (i32.const 2))))
              (memory.fill (local.get $dst) (i32.const 0) (i32.shl (local.get $lo) (i32.const 2)))
              (local.set $ox (local.get $lo))
              ;; Four at a time while the eighth value read (input column 2·ox + 7 from column 0's) stays below 2·(hi − 1).
              (block $done
                (loop $fours
                  (br_if $done (i32.ge_s (i32.add (local.get $ox) (i32.const 4)) (local.get $hi)))
                  (v128.store (i32.add (local.get $dst) (i32.shl (local.get $ox) (i32.const 2)))
                    (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27
                      (v128.load (i32.add (local.get $src) (i32.shl (local.get $ox) (i32.const 3))))
                      (v128.load offset=16 (i32.add (local.get $src) (i32.shl (local.get $ox) (i32.const 3))))))
                  (local.set $ox (i32.add (local.get $ox) (i32.const 4)))
                  (br $fours)))
              (block $tailDone
                (loop $tail
                  (br_if $tailDone (i32.ge_s (local.get $ox) (local.get $hi)))
                  (f32.store (i32.add (local.get $dst) (i32.shl (local.get $ox) (i32.const 2)))
                    (f32.load (i32.add (local.get $src) (i32.shl (local.get $ox) (i32.const 3)))))
                  (local.set $ox (i32.add (local.get $ox) (i32.const 1)))
                  (br $tail)))
              (memory.fill (i32.add (local.get $dst) (i32.shl (local.get $hi) (i32.const 2))) (i32.const 0)
                (i32.shl (i32.sub (local.get $ow) (local.get $hi)) (i32.const 2)))))
          (local.set $dst (i32.add (local.get $dst) (local.get $rowBytes)))
          (br_if $rows (i32.lt_s (local.tee $oy (i32.add (local.get $oy) (i32.const 1))) (local.get $oh))))
        (br_if $images (i32.lt_s (local.tee $b (i32.add (local.get $b) (i32.const 1))) (local.get $n))))
      (local.set $kx (i32.add (local.get $kx) (i32.const 1)))
      (if (i32.eq (local.get $kx) (local.get $k))
        (then (local.set $kx (i32.const 0)) (local.set $ky (i32.add (local.get $ky) (i32.const 1)))))
      (br_if $taps (i32.lt_s (local.get $ky) (local.get $k)))))

  ;; The adjoint: one channel's $n input-gradient images at $dx (overwritten) from its block of
  ;; columns at $cols, each column value added at the input position it came from.
  (func (export "columnsStride2Adjoint") (param $cols i32) (param $n i32) (param $h i32) (param $w i32) (param $k i32) (param $p i32)
    (param $oh i32) (param $ow i32) (param $dx i32)
    (local $ky i32) (local $kx i32) (local $b i32) (local $oy i32) (local $iy i32) (local $ox i32)
    (local $lo i32) (local $hi i32) (local $span i32) (local $from i32) (local $to i32) (local $at i32) (local $c v128)
    (memory.fill (local.get $dx) (i32.const 0) (i32.shl (i32.mul (local.get $n) (i32.mul (local.get $h) (local.get $w))) (i32.const 2)))
    (local.set $from (local.get $cols))
    (loop $taps
      (local.set $span (call $span (local.get $w) (local.get $p) (local.get $kx) (local.get $ow)))
      (local.set $lo (i32.and (local.get $span) (i32.const 0xffff)))
      (local.set $hi (i32.shr_u (local.get $span) (i32.const 16)))
      (local.set $b (i32.const 0))
      (loop $images
        (local.set $oy (i32.const 0))
        (loop $rows
          (local.set $iy (i32.add (i32.sub (i32.shl (local.get $oy) (i32.const 1)) (local.get $p)) (local.get $ky)))
          (if (i32.and (i32.ge_s (local.get $iy) (i32.const 0)) (i32.lt_s (local.get $iy) (local.get $h)))
            (then
              (local.set $to (i32.add (local.get $dx)
                (i32.shl (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $h)) (local.get $iy)) (local.get $w))
                  (i32.sub (local.get $kx) (local.get $p))) (i32.const 2))))
              (local.set $ox (local.get $lo))
              (block $done
                (loop $fours
                  (br_if $done (i32.ge_s (i32.add (local.get $ox) (i32.const 4)) (local.get $hi)))
                  (local.set $c (v128.load (i32.add (local.get $from) (i32.shl (local.get $ox) (i32.const 2)))))
                  (local.set $at (i32.add (local.get $to) (i32.shl (local.get $ox) (i32.const 3))))
                  (v128.store (local.get $at) (f32x4.add (v128.load (local.get $at))
                    (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 16 17 18 19 (local.get $c) (v128.const i32x4 0 0 0 0))))
                  (v128.store offset=16 (local.get $at) (f32x4.add (v128.load offset=16 (local.get $at))
                    (i8x16.shuffle 8 9 10 11 16 17 18 19 12 13 14 15 16 17 18 19 (local.get $c) (v128.const i32x4 0 0 0 0))))
                  (local.set $ox (i32.add (local.get $ox) (i32.const 4)))
                  (br $fours)))
              (block $tailDone
                (loop $tail
                  (br_if $tailDone (i32.ge_s (local.get $ox) (local.get $hi)))
                  (local.set $at (i32.add (local.get $to) (i32.shl (local.get $ox) (i32.const 3))))
                  (f32.store (local.get $at) (f32.add (f32.load (local.get $at)) (f32.load (i32.add (local.get $from) (i32.shl (local.get $ox) (i32.const 2))))))
                  (local.set $ox (i32.add (local.get $ox) (i32.const 1)))
                  (br $tail)))))
          (local.set $from (i32.add (local.get $from) (i32.shl (local.get $ow) (i32.const 2))))
          (br_if $rows (i32.lt_s (local.tee $oy (i32.add (local.get $oy) (i32.const 1))) (local.get $oh))))
        (br_if $images (i32.lt_s (local.tee $b (i32.add (local.get $b) (i32.const 1))) (local.get $n))))
      (local.set $kx (i32.add (local.get $kx) (i32.const 1)))
      (if (i32.eq (local.get $kx) (local.get $k))
        (then (local.set $kx (i32.const 0)) (local.set $ky (i32.add (local.get $ky) (i32.const 1)))))
      (br_if $taps (i32.lt_s (local.get $ky) (local.get $k))))))
