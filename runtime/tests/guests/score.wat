  ;; 1 when an LLM call (kind 0) has an empty output or a tool call (kind 1) errored
  ;; (status 2), else 0.
  (func $flag (param $kind i32) (param $status i32) (param $outlen i32) (result i32)
    (i32.or
      (i32.and (i32.eq (local.get $kind) (i32.const 0)) (i32.eqz (local.get $outlen)))
      (i32.and (i32.eq (local.get $kind) (i32.const 1)) (i32.eq (local.get $status) (i32.const 2)))))
  ;; ok(score = 1 - flagged / n, passed = flagged == 0)
  (func $score (param $flagged i32) (param $n i32) (result i32)
    (call $ok
      (if (result f64) (i32.eqz (local.get $n))
        (then (f64.const 1))
        (else (f64.sub (f64.const 1)
          (f64.div (f64.convert_i32_u (local.get $flagged)) (f64.convert_i32_u (local.get $n))))))
      (i32.eqz (local.get $flagged))))
