;; An exporter with one format, `count`, writing the number of traces and of spans as text
;; ("<traces> <spans>", single digits).
(module
  (import "flowtrace:plugin/types@0.1.0" "[resource-drop]trace" (func $drop_trace (param i32)))
  (import "flowtrace:plugin/types@0.1.0" "[method]trace.span-count" (func $span_count (param i32) (result i32)))
  @PRELUDE@
  (data (i32.const 2048) "count")
  (data (i32.const 2056) "text/plain")
  (data (i32.const 2072) "txt")
  (func (export "flowtrace:plugin/exporter@0.1.0#formats") (result i32)
    ;; list of one export-format {name, media-type, file-extension} at 3000
    (i32.store (i32.const 3000) (i32.const 2048)) (i32.store (i32.const 3004) (i32.const 5))
    (i32.store (i32.const 3008) (i32.const 2056)) (i32.store (i32.const 3012) (i32.const 10))
    (i32.store (i32.const 3016) (i32.const 2072)) (i32.store (i32.const 3020) (i32.const 3))
    (i32.store (i32.const 1024) (i32.const 3000))
    (i32.store (i32.const 1028) (i32.const 1))
    (i32.const 1024))
  (func (export "flowtrace:plugin/exporter@0.1.0#export-traces")
    (param $fmt i32) (param $fmt_len i32) (param $traces i32) (param $n i32) (result i32)
    (local $i i32) (local $spans i32) (local $h i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $h (i32.load (i32.add (local.get $traces) (i32.mul (local.get $i) (i32.const 4)))))
        (local.set $spans (i32.add (local.get $spans) (call $span_count (local.get $h))))
        (call $drop_trace (local.get $h))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (i32.store8 (i32.const 3100) (i32.add (i32.const 48) (local.get $n)))
    (i32.store8 (i32.const 3101) (i32.const 32))
    (i32.store8 (i32.const 3102) (i32.add (i32.const 48) (local.get $spans)))
    ;; ok(list<u8>) at 1024
    (i32.store8 (i32.const 1024) (i32.const 0))
    (i32.store (i32.const 1028) (i32.const 3100))
    (i32.store (i32.const 1032) (i32.const 3))
    (i32.const 1024)))
