;; An evaluator with side effects, to tell how many times each trace was evaluated. For each
;; trace (of `n` spans), in `evaluate` and in each step of `evaluate-batch`:
;;   1. reads `n` and calls `traces.query` with `limit = n` (the host's provider counts them);
;;   2. reads the counter `calls` from `kv` (one byte, 0 when absent) and stores it plus one;
;;   3. n == 1: logs `looping` (warn) and loops forever;
;;      n == 3: logs `trapping` (warn) and traps;
;;      100 <= n < 200: spins for 50 ms by the monotonic clock (a slow trace);
;;   4. otherwise passes with score 1 and the metrics `calls` = the counter it read and
;;      `batched` = 1 in `evaluate-batch`, 0 in `evaluate`.
(module
  (import "flowtrace:plugin/types@0.1.0" "[method]trace.span-count" (func $span_count (param i32) (result i32)))
  (import "flowtrace:plugin/types@0.1.0" "[resource-drop]trace" (func $drop_trace (param i32)))
  (import "flowtrace:plugin/log@0.1.0" "log" (func $log (param i32 i32 i32)))
  (import "flowtrace:plugin/kv@0.1.0" "get" (func $kv_get (param i32 i32 i32)))
  (import "flowtrace:plugin/kv@0.1.0" "set" (func $kv_set (param i32 i32 i32 i32 i32)))
  (import "flowtrace:plugin/traces@0.1.0" "query" (func $query (param i32 i32 i32 i32 i64 i32 i64 i32 i32)))
  (import "wasi:clocks/monotonic-clock@0.2.12" "now" (func $now (result i64)))
  @PRELUDE@
  (data (i32.const 2048) "calls")
  (data (i32.const 2056) "batched")
  (data (i32.const 2064) "looping")
  (data (i32.const 2072) "trapping")

  ;; Steps 1 to 3 on handle $t; the counter read. Drops the handle.
  (func $visit (param $t i32) (result i32)
    (local $n i32) (local $c i32) (local $until i64)
    (local.set $n (call $span_count (local.get $t)))
    ;; query({none, none, none, limit: n}) -> list<string> at 4224 (ignored)
    (call $query (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i64.const 0)
                 (i32.const 0) (i64.const 0) (local.get $n) (i32.const 4224))
    ;; kv.get("calls") -> option<list<u8>> at 4160: disc +0, ptr +4, len +8
    (call $kv_get (i32.const 2048) (i32.const 5) (i32.const 4160))
    (if (i32.load8_u (i32.const 4160))
      (then (local.set $c (i32.load8_u (i32.load (i32.const 4164))))))
    ;; kv.set("calls", [c + 1]) -> result<_, string> at 4192
    (i32.store8 (i32.const 4256) (i32.add (local.get $c) (i32.const 1)))
    (call $kv_set (i32.const 2048) (i32.const 5) (i32.const 4256) (i32.const 1) (i32.const 4192))
    (if (i32.load8_u (i32.const 4192)) (then unreachable))
    (if (i32.eq (local.get $n) (i32.const 1))
      (then
        (call $log (i32.const 3) (i32.const 2064) (i32.const 7))
        (loop $spin (br $spin))))
    (if (i32.eq (local.get $n) (i32.const 3))
      (then
        (call $log (i32.const 3) (i32.const 2072) (i32.const 8))
        unreachable))
    (if (i32.and (i32.ge_u (local.get $n) (i32.const 100)) (i32.lt_u (local.get $n) (i32.const 200)))
      (then
        (local.set $until (i64.add (call $now) (i64.const 50000000)))
        (loop $spin (br_if $spin (i64.lt_u (call $now) (local.get $until))))))
    (call $drop_trace (local.get $t))
    (local.get $c))

  ;; Write `ok(eval-result)` at $at: score 1, passed, metrics [calls = c, batched = b].
  (func $result (param $at i32) (param $c i32) (param $b i32)
    (local $m i32)
    (memory.fill (local.get $at) (i32.const 0) (i32.const 64))
    (f64.store offset=8 (local.get $at) (f64.const 1))
    (i32.store8 offset=16 (local.get $at) (i32.const 1))
    ;; two metrics of 24 bytes: name (ptr, len), value: disc at +8 (1 = integer), s64 at +16
    (local.set $m (call $alloc (i32.const 8) (i32.const 48)))
    (i32.store (local.get $m) (i32.const 2048))
    (i32.store offset=4 (local.get $m) (i32.const 5))
    (i32.store8 offset=8 (local.get $m) (i32.const 1))
    (i64.store offset=16 (local.get $m) (i64.extend_i32_u (local.get $c)))
    (i32.store offset=24 (local.get $m) (i32.const 2056))
    (i32.store offset=28 (local.get $m) (i32.const 7))
    (i32.store8 offset=32 (local.get $m) (i32.const 1))
    (i64.store offset=40 (local.get $m) (i64.extend_i32_u (local.get $b)))
    (i32.store offset=44 (local.get $at) (local.get $m))
    (i32.store offset=48 (local.get $at) (i32.const 2)))

  (func (export "flowtrace:plugin/evaluator@0.1.0#evaluate") (param $t i32) (result i32)
    (call $result (i32.const 1024) (call $visit (local.get $t)) (i32.const 0))
    (i32.const 1024))

  (func (export "flowtrace:plugin/evaluator@0.1.0#evaluate-batch") (param $ptr i32) (param $len i32) (result i32)
    (local $out i32) (local $i i32) (local $j i32) (local $loops i32)
    (local.set $out (call $alloc (i32.const 8) (i32.mul (local.get $len) (i32.const 64))))
    ;; Tests put code that reads the handles before the traces' turns on the next line.
    ;; @READ-AHEAD@
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
        (call $result
          (i32.add (local.get $out) (i32.mul (local.get $i) (i32.const 64)))
          (call $visit (i32.load (i32.add (local.get $ptr) (i32.mul (local.get $i) (i32.const 4)))))
          (i32.const 1))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $each)))
    ;; list<result<eval-result, plugin-error>> as (ptr, len) at 960
    (i32.store (i32.const 960) (local.get $out))
    (i32.store (i32.const 964) (local.get $len))
    (i32.const 960)))
