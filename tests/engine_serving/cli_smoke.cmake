# Smoke test of parklock-engine: make-weights, generate (with and without a
# LoRA adapter), a small bench (table and --json), and a bad argument.
# Run with -DENGINE=<binary> -DMODEL_BENCH=<parklock_model_bench> -DWORK_DIR=<scratch dir>.
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})

function(run_ok)
  execute_process(COMMAND ${ENGINE} ${ARGN}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "parklock-engine ${ARGN}: exit ${rc}\n${out}\n${err}")
  endif()
  set(out "${out}" PARENT_SCOPE)
  set(err "${err}" PARENT_SCOPE)
endfunction()

run_ok(make-weights --config tiny --seed 1 --out ${WORK_DIR}/model.safetensors)
run_ok(make-weights --config tiny --seed 2 --lora 4 --out ${WORK_DIR}/lora.safetensors)

run_ok(generate --model ${WORK_DIR}/model.safetensors --prompt "Hello" --max-tokens 16
       --ignore-eos)
if(NOT err MATCHES "16 tokens, finish: length")
  message(FATAL_ERROR "generate: unexpected summary: ${err}")
endif()
run_ok(generate --model ${WORK_DIR}/model.safetensors --lora ${WORK_DIR}/lora.safetensors --device cpu
       --temperature 0.8 --top-k 20 --seed 5 --max-tokens 8)

run_ok(bench --model ${WORK_DIR}/model.safetensors --clients 4 --requests 16 --prompt-len 24
       --max-tokens 8)
foreach(field "requests/s" "output tokens/s" "time to first" "inter-token")
  if(NOT out MATCHES "${field}")
    message(FATAL_ERROR "bench table lacks '${field}':\n${out}")
  endif()
endforeach()
run_ok(bench --config tiny --clients 2 --requests 4 --prompt-len 8 --max-tokens 4 --json)
if(NOT out MATCHES "^{\"model\".*\"requests_per_s\".*\"ttft_ms\".*}")
  message(FATAL_ERROR "bench --json output is not the expected object:\n${out}")
endif()

execute_process(COMMAND ${ENGINE} bench --clients zero
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 2 OR NOT err MATCHES "--clients: Value zero")
  message(FATAL_ERROR "bad argument: expected exit 2 and a clear message, got ${rc}: ${err}")
endif()

# Every request rejected (prompt + output past the 1024-token context): a
# clear error and exit 1, no throughput table.
execute_process(COMMAND ${ENGINE} bench --config tiny --clients 2 --requests 4 --prompt-len 1000
                        --max-tokens 100
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 1 OR NOT out STREQUAL "" OR NOT err MATCHES "all 4 requests failed.*context")
  message(FATAL_ERROR "bench, all rejected: expected exit 1, empty stdout, got ${rc}:\n${out}\n${err}")
endif()

# generate on error: the message on stderr, nothing (not even a newline) on stdout.
execute_process(COMMAND ${ENGINE} generate --config tiny --max-tokens 2000
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 1 OR NOT out STREQUAL "" OR NOT err MATCHES "exceeds the model context")
  message(FATAL_ERROR "generate error: expected exit 1 and empty stdout, got ${rc}: '${out}' ${err}")
endif()

# parklock_model_bench with a context past the model's positions: a clear
# message and exit 2 (it used to die on an uncaught std::invalid_argument).
execute_process(COMMAND ${MODEL_BENCH} tiny 1 64 4096
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 2 OR NOT err MATCHES "exceeds tiny's 1024 positions")
  message(FATAL_ERROR "model bench, bad shape: expected exit 2 and a message, got ${rc}: ${err}")
endif()
execute_process(COMMAND ${MODEL_BENCH} tiny 2 8 4 1 2
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0 OR NOT out MATCHES "batched/one-at-a-time time ratio")
  message(FATAL_ERROR "model bench: expected the batched/unbatched ratio, got ${rc}: ${out} ${err}")
endif()
