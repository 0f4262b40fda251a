;; An embedder: dimension 3; the vector of a text is [byte length, 1, 2].
(module
  @PRELUDE@
  (func (export "flowtrace:plugin/embedder@0.1.0#dimension") (result i32) (i32.const 3))
  (func (export "flowtrace:plugin/embedder@0.1.0#embed") (param $texts i32) (param $n i32) (result i32)
    (local $outer i32) (local $i i32) (local $v i32)
    (local.set $outer (call $alloc (i32.const 4) (i32.mul (local.get $n) (i32.const 8))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $v (call $alloc (i32.const 4) (i32.const 12)))
        ;; the text's length is at texts + 8 i + 4
        (f32.store (local.get $v)
          (f32.convert_i32_u (i32.load offset=4 (i32.add (local.get $texts) (i32.mul (local.get $i) (i32.const 8))))))
        (f32.store offset=4 (local.get $v) (f32.const 1))
        (f32.store offset=8 (local.get $v) (f32.const 2))
        (i32.store (i32.add (local.get $outer) (i32.mul (local.get $i) (i32.const 8))) (local.get $v))
        (i32.store offset=4 (i32.add (local.get $outer) (i32.mul (local.get $i) (i32.const 8))) (i32.const 3))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    ;; ok(list) at 1024: disc +0, ptr +4, len +8
    (i32.store8 (i32.const 1024) (i32.const 0))
    (i32.store (i32.const 1028) (local.get $outer))
    (i32.store (i32.const 1032) (local.get $n))
    (i32.const 1024)))
