;; A transformer that returns each trace unchanged through `to-data()`, dropping traces with
;; no spans.
(module
  (import "flowtrace:plugin/types@0.1.0" "[resource-drop]trace" (func $drop_trace (param i32)))
  (import "flowtrace:plugin/types@0.1.0" "[method]trace.span-count" (func $span_count (param i32) (result i32)))
  (import "flowtrace:plugin/types@0.1.0" "[method]trace.to-data" (func $to_data (param i32 i32)))
  @PRELUDE@
  (func (export "flowtrace:plugin/transformer@0.1.0#transform") (param $traces i32) (param $n i32) (result i32)
    (local $out i32) (local $i i32) (local $kept i32) (local $h i32)
    (local.set $out (call $alloc (i32.const 4) (i32.mul (local.get $n) (i32.const 48))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $h (i32.load (i32.add (local.get $traces) (i32.mul (local.get $i) (i32.const 4)))))
        (if (call $span_count (local.get $h))
          (then
            (call $to_data (local.get $h)
              (i32.add (local.get $out) (i32.mul (local.get $kept) (i32.const 48))))
            (local.set $kept (i32.add (local.get $kept) (i32.const 1)))))
        (call $drop_trace (local.get $h))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    ;; ok(list<trace-data>) at 1024: disc +0, ptr +4, len +8
    (i32.store8 (i32.const 1024) (i32.const 0))
    (i32.store (i32.const 1028) (local.get $out))
    (i32.store (i32.const 1032) (local.get $kept))
    (i32.const 1024)))
