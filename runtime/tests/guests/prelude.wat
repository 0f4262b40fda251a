  ;; Shared by every test guest: memory, a bump allocator (each call gets a fresh instance,
  ;; so it never frees), and a zeroed return area at 1024.
  (memory (export "memory") 1)
  (global $bump (mut i32) (i32.const 65536))
  (func $alloc (param $align i32) (param $size i32) (result i32)
    (local $p i32) (local $need i32)
    (local.set $p
      (i32.and
        (i32.add (global.get $bump) (i32.sub (local.get $align) (i32.const 1)))
        (i32.sub (i32.const 0) (local.get $align))))
    (global.set $bump (i32.add (local.get $p) (local.get $size)))
    (local.set $need
      (i32.sub (global.get $bump) (i32.mul (memory.size) (i32.const 65536))))
    (if (i32.gt_s (local.get $need) (i32.const 0))
      (then
        (if (i32.eq
              (memory.grow (i32.div_u (i32.add (local.get $need) (i32.const 65535)) (i32.const 65536)))
              (i32.const -1))
          (then unreachable))))
    (local.get $p))
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (call $alloc (local.get 2) (local.get 3)))
  ;; Write an `ok(eval-result)` with this score and passed flag at 1024, no strings or lists.
  (func $ok (param $score f64) (param $passed i32) (result i32)
    (memory.fill (i32.const 1024) (i32.const 0) (i32.const 64))
    (f64.store (i32.const 1032) (local.get $score))
    (i32.store8 (i32.const 1040) (local.get $passed))
    (i32.const 1024))
