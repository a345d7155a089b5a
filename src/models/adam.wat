;; Adam update over four equal-length float32 arrays in linear memory, four lanes at a time
;; (the length must be a multiple of 4; callers pad with zeros, which stay zero).
;; Per element, as torch.optim.Adam with L2 weight decay:
;;   g ← g + wd·p;  m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;  p ← p − s·m / (√v·c + ε)
;; where s = lr / (1 − β1^t) and c = 1 / √(1 − β2^t). The memory is shared: a conv net's parameters
;; live in the layers' arena (arena.ts), where both threads of split.ts run this loop on chunks of it.
(module
  (import "env" "memory" (memory 1 65536 shared))
  (func (export "adam")
    (param $p i32) (param $g i32) (param $m i32) (param $v i32) (param $n i32)
    (param $beta1 f32) (param $beta2 f32) (param $stepSize f32) (param $correction f32) (param $eps f32) (param $wd f32)
    (local $i i32) (local $end i32)
    (local $grad v128) (local $mean v128) (local $var v128)
    (local $B1 v128) (local $A1 v128) (local $B2 v128) (local $A2 v128)
    (local $S v128) (local $C v128) (local $E v128) (local $WD v128)
    (local.set $B1 (f32x4.splat (local.get $beta1)))
    (local.set $A1 (f32x4.splat (f32.sub (f32.const 1) (local.get $beta1))))
    (local.set $B2 (f32x4.splat (local.get $beta2)))
    (local.set $A2 (f32x4.splat (f32.sub (f32.const 1) (local.get $beta2))))
    (local.set $S (f32x4.splat (local.get $stepSize)))
    (local.set $C (f32x4.splat (local.get $correction)))
    (local.set $E (f32x4.splat (local.get $eps)))
    (local.set $WD (f32x4.splat (local.get $wd)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $grad
          (f32x4.add (v128.load (i32.add (local.get $g) (local.get $i)))
                     (f32x4.mul (local.get $WD) (v128.load (i32.add (local.get $p) (local.get $i))))))
        (local.set $mean
          (f32x4.add (f32x4.mul (local.get $B1) (v128.load (i32.add (local.get $m) (local.get $i))))
                     (f32x4.mul (local.get $A1) (local.get $grad))))
        (local.set $var
          (f32x4.add (f32x4.mul (local.get $B2) (v128.load (i32.add (local.get $v) (local.get $i))))
                     (f32x4.mul (local.get $A2) (f32x4.mul (local.get $grad) (local.get $grad)))))
        (v128.store (i32.add (local.get $m) (local.get $i)) (local.get $mean))
        (v128.store (i32.add (local.get $v) (local.get $i)) (local.get $var))
        (v128.store (i32.add (local.get $p) (local.get $i))
          (f32x4.sub (v128.load (i32.add (local.get $p) (local.get $i)))
            (f32x4.div (f32x4.mul (local.get $S) (local.get $mean))
                       (f32x4.add (f32x4.mul (f32x4.sqrt (local.get $var)) (local.get $C)) (local.get $E)))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $next)))))
