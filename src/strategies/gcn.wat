;; The element-wise passes of CoreGCN's hidden layer, four lanes at a time, each one pass over the
;; n×h block (row-major, h a multiple of 8) instead of the five JavaScript passes they replace.
;;
;; Dropout draws come from eight xoshiro128** generators laid out as in models/dropout.wat (the
;; library's dropout, which this pass fuses with the bias, the ReLU and the product with w2): state
;; at $state as two sets of four v128 words (set a: s0..s3 at bytes 0..63, set b at 64..127; lane k
;; of a set holds its generator k); element e of the block uses set a when e mod 8 < 4, else set b,
;; lane e mod 4, at step floor(e/8). A value is dropped when its draw is below $threshold (p·2^32).
(module
  (import "env" "memory" (memory 1))

;; In place: H ← dropout(max(H + b1, 0)) scaled by $keep (b1 added to every row); z[i] ← H[i,:]·w2
  ;; after dropout. The ReLU is f32x4.pmax, one maxps (f32x4.max's NaN and −0 rules cost a sequence
  ;; of instructions, a quarter of the pass); a −0 it may leave is dropped by backward's > 0 all the same.
  ;; Eight values per step: two independent sets of four generators (a, then b),
  ;; whose state chains interleave (one set alone left the pass waiting on its own state update).
  (func (export "forward")
    (param $h i32) (param $rows i32) (param $cols i32) (param $b1 i32) (param $w2 i32) (param $z i32)
    (param $state i32) (param $threshold i32) (param $keep f32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $b0 v128) (local $b1v v128) (local $b2 v128) (local $b3 v128)
    (local $ta v128) (local $tb v128) (local $ra v128) (local $rb v128)
    (local $v v128) (local $u v128) (local $acc v128) (local $KEEP v128) (local $THR v128)
    (local $row i32) (local $j i32) (local $rowBytes i32) (local $at i32)
    (local.set $a0 (v128.load (local.get $state)))
    (local.set $a1 (v128.load offset=16 (local.get $state)))
    (local.set $a2 (v128.load offset=32 (local.get $state)))
    (local.set $a3 (v128.load offset=48 (local.get $state)))
    (local.set $b0 (v128.load offset=64 (local.get $state)))
    (local.set $b1v (v128.load offset=80 (local.get $state)))
    (local.set $b2 (v128.load offset=96 (local.get $state)))
    (local.set $b3 (v128.load offset=112 (local.get $state)))
    (local.set $KEEP (f32x4.splat (local.get $keep)))
    (local.set $THR (i32x4.splat (local.get $threshold)))
    (local.set $rowBytes (i32.shl (local.get $cols) (i32.const 2)))
    (block $rowsDone
      (loop $nextRow
        (br_if $rowsDone (i32.ge_u (local.get $row) (local.get $rows)))
        (local.set $acc (v128.const i32x4 0 0 0 0))
        (local.set $j (i32.const 0))
        (block $colsDone
          (loop $nextCol
            (br_if $colsDone (i32.ge_u (local.get $j) (local.get $rowBytes)))
            ;; r = rotl(s1·5, 7)·9 (the products as shifts and adds: i32x4.mul is slow on x86), then the
            ;; xoshiro128 state step, for both sets
            (local.set $ra (i32x4.add (i32x4.shl (local.get $a1) (i32.const 2)) (local.get $a1)))
            (local.set $rb (i32x4.add (i32x4.shl (local.get $b1v) (i32.const 2)) (local.get $b1v)))
            (local.set $ra (v128.or (i32x4.shl (local.get $ra) (i32.const 7)) (i32x4.shr_u (local.get $ra) (i32.const 25))))
            (local.set $ra (i32x4.add (i32x4.shl (local.get $ra) (i32.const 3)) (local.get $ra)))
            (local.set $rb (v128.or (i32x4.shl (local.get $rb) (i32.const 7)) (i32x4.shr_u (local.get $rb) (i32.const 25))))
            (local.set $rb (i32x4.add (i32x4.shl (local.get $rb) (i32.const 3)) (local.get $rb)))
            (local.set $ta (i32x4.shl (local.get $a1) (i32.const 9)))
            (local.set $tb (i32x4.shl (local.get $b1v) (i32.const 9)))
            (local.set $a2 (v128.xor (local.get $a2) (local.get $a0)))
            (local.set $b2 (v128.xor (local.get $b2) (local.get $b0)))
            (local.set $a3 (v128.xor (local.get $a3) (local.get $a1)))
            (local.set $b3 (v128.xor (local.get $b3) (local.get $b1v)))
            (local.set $a1 (v128.xor (local.get $a1) (local.get $a2)))
            (local.set $b1v (v128.xor (local.get $b1v) (local.get $b2)))
            (local.set $a0 (v128.xor (local.get $a0) (local.get $a3)))
            (local.set $b0 (v128.xor (local.get $b0) (local.get $b3)))
            (local.set $a2 (v128.xor (local.get $a2) (local.get $ta)))
            (local.set $b2 (v128.xor (local.get $b2) (local.get $tb)))
            (local.set $a3 (v128.or (i32x4.shl (local.get $a3) (i32.const 11)) (i32x4.shr_u (local.get $a3) (i32.const 21))))
            (local.set $b3 (v128.or (i32x4.shl (local.get $b3) (i32.const 11)) (i32x4.shr_u (local.get $b3) (i32.const 21))))
            (local.set $at (i32.add (local.get $h) (local.get $j)))
            (local.set $v
              (v128.and (f32x4.mul (f32x4.pmax (f32x4.add (v128.load (local.get $at)) (v128.load (i32.add (local.get $b1) (local.get $j))))
                                              (v128.const i32x4 0 0 0 0))
                                   (local.get $KEEP))
                        (i32x4.ge_u (local.get $ra) (local.get $THR))))
            (local.set $u
              (v128.and (f32x4.mul (f32x4.pmax (f32x4.add (v128.load offset=16 (local.get $at)) (v128.load offset=16 (i32.add (local.get $b1) (local.get $j))))
                                              (v128.const i32x4 0 0 0 0))
                                   (local.get $KEEP))
                        (i32x4.ge_u (local.get $rb) (local.get $THR))))
            (v128.store (local.get $at) (local.get $v))
            (v128.store offset=16 (local.get $at) (local.get $u))
            (local.set $acc (f32x4.add (local.get $acc)
              (f32x4.add (f32x4.mul (local.get $v) (v128.load (i32.add (local.get $w2) (local.get $j))))
                         (f32x4.mul (local.get $u) (v128.load offset=16 (i32.add (local.get $w2) (local.get $j)))))))
            (local.set $j (i32.add (local.get $j) (i32.const 32)))
            (br $nextCol)))
        (f32.store (i32.add (local.get $z) (i32.shl (local.get $row) (i32.const 2)))
          (f32.add (f32.add (f32x4.extract_lane 0 (local.get $acc)) (f32x4.extract_lane 1 (local.get $acc)))
                   (f32.add (f32x4.extract_lane 2 (local.get $acc)) (f32x4.extract_lane 3 (local.get $acc)))))
        (local.set $h (i32.add (local.get $h) (local.get $rowBytes)))
        (local.set $row (i32.add (local.get $row) (i32.const 1)))
        (br $nextRow)))
    (v128.store (local.get $state) (local.get $a0))
    (v128.store offset=16 (local.get $state) (local.get $a1))
    (v128.store offset=32 (local.get $state) (local.get $a2))
    (v128.store offset=48 (local.get $state) (local.get $a3))
    (v128.store offset=64 (local.get $state) (local.get $b0))
    (v128.store offset=80 (local.get $state) (local.get $b1v))
    (v128.store offset=96 (local.get $state) (local.get $b2))
    (v128.store offset=112 (local.get $state) (local.get $b3)))

  ;; Given the dropped hidden block Hd and δ = ∂loss/∂(Hd·w2) per row ($dh may be $hd: in place):
  ;;   dH[i,j] = δ[i]·w2[j]·keep where Hd[i,j] > 0 (kept and past the ReLU), else 0;
  ;;   gb1 = Σᵢ dH[i,:];  gw2 = Σᵢ δ[i]·Hd[i,:].
  (func (export "backward")
    (param $hd i32) (param $dh i32) (param $rows i32) (param $cols i32) (param $delta i32) (param $w2 i32)
    (param $keep f32) (param $gw2 i32) (param $gb1 i32)
    (local $row i32) (local $j i32) (local $rowBytes i32)
    (local $d v128) (local $dk v128) (local $v v128) (local $g v128)
    (local.set $rowBytes (i32.shl (local.get $cols) (i32.const 2)))
    (memory.fill (local.get $gw2) (i32.const 0) (local.get $rowBytes))
    (memory.fill (local.get $gb1) (i32.const 0) (local.get $rowBytes))
    (block $rowsDone
      (loop $nextRow
        (br_if $rowsDone (i32.ge_u (local.get $row) (local.get $rows)))
        (local.set $d (v128.load32_splat (i32.add (local.get $delta) (i32.shl (local.get $row) (i32.const 2)))))
        (local.set $dk (f32x4.mul (local.get $d) (f32x4.splat (local.get $keep))))
        (local.set $j (i32.const 0))
        (block $colsDone
          (loop $nextCol
            (br_if $colsDone (i32.ge_u (local.get $j) (local.get $rowBytes)))
            (local.set $v (v128.load (i32.add (local.get $hd) (local.get $j))))
            (local.set $g
              (v128.and (f32x4.mul (local.get $dk) (v128.load (i32.add (local.get $w2) (local.get $j))))
                        (f32x4.gt (local.get $v) (v128.const i32x4 0 0 0 0))))
            (v128.store (i32.add (local.get $dh) (local.get $j)) (local.get $g))
            (v128.store (i32.add (local.get $gb1) (local.get $j))
              (f32x4.add (v128.load (i32.add (local.get $gb1) (local.get $j))) (local.get $g)))
            (v128.store (i32.add (local.get $gw2) (local.get $j))
              (f32x4.add (v128.load (i32.add (local.get $gw2) (local.get $j))) (f32x4.mul (local.get $d) (local.get $v))))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $nextCol)))
        (local.set $hd (i32.add (local.get $hd) (local.get $rowBytes)))
        (local.set $dh (i32.add (local.get $dh) (local.get $rowBytes)))
        (local.set $row (i32.add (local.get $row) (i32.const 1)))
        (br $nextRow)))))
