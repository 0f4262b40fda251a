;; An evaluator that uses the host interfaces: logs a line through `log`, prints one to
;; stdout, and counts visits in `kv`. First call (no `visits` key): stores it and scores 0.
;; Later calls: score = config `threshold` (a float).
(module
  (import "flowtrace:plugin/types@0.1.0" "[resource-drop]trace" (func $drop_trace (param i32)))
  (import "flowtrace:plugin/log@0.1.0" "log" (func $log (param i32 i32 i32)))
  (import "flowtrace:plugin/config@0.1.0" "get" (func $config_get (param i32 i32 i32)))
  (import "flowtrace:plugin/kv@0.1.0" "get" (func $kv_get (param i32 i32 i32)))
  (import "flowtrace:plugin/kv@0.1.0" "set" (func $kv_set (param i32 i32 i32 i32 i32)))
  (import "wasi:cli/stdout@0.2.12" "get-stdout" (func $get_stdout (result i32)))
  (import "wasi:io/streams@0.2.12" "[method]output-stream.blocking-write-and-flush"
    (func $write (param i32 i32 i32 i32)))
  @PRELUDE@
  (data (i32.const 2048) "hello from the guest")
  (data (i32.const 2080) "printed line\n")
  (data (i32.const 2112) "visits")
  (data (i32.const 2128) "1")
  (data (i32.const 2144) "threshold")
  (func (export "flowtrace:plugin/evaluator@0.1.0#evaluate") (param $t i32) (result i32)
    (call $drop_trace (local.get $t))
    ;; level info = 2
    (call $log (i32.const 2) (i32.const 2048) (i32.const 20))
    (call $write (call $get_stdout) (i32.const 2080) (i32.const 13) (i32.const 4096))
    ;; kv.get("visits") -> option<list<u8>> at 4160: disc +0, ptr +4, len +8
    (call $kv_get (i32.const 2112) (i32.const 6) (i32.const 4160))
    (if (i32.eqz (i32.load8_u (i32.const 4160)))
      (then
        ;; kv.set("visits", "1") -> result<_, string> at 4192
        (call $kv_set (i32.const 2112) (i32.const 6) (i32.const 2128) (i32.const 1) (i32.const 4192))
        (if (i32.load8_u (i32.const 4192)) (then unreachable))
        (return (call $ok (f64.const 0) (i32.const 0)))))
    ;; config.get("threshold") -> option<config-value> at 4224: float payload at +16
    (call $config_get (i32.const 2144) (i32.const 9) (i32.const 4224))
    (call $ok (f64.load (i32.const 4240)) (i32.const 1)))
  (func (export "flowtrace:plugin/evaluator@0.1.0#evaluate-batch") (param i32 i32) (result i32)
    unreachable))
