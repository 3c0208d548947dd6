# parklock-engine --device on a machine without a usable GPU: every device
# is hidden (CUDA_VISIBLE_DEVICES=-1), so this means the same on a GPU
# machine. auto and cpu run on the CPU and say so on stderr in one line;
# cuda is refused with exit status 2 and the reason, before anything loads.
# Run with -DENGINE=<binary>.
function(run_engine)
  execute_process(COMMAND ${CMAKE_COMMAND} -E env CUDA_VISIBLE_DEVICES=-1 ${ENGINE} ${ARGN}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  set(rc "${rc}" PARENT_SCOPE)
  set(out "${out}" PARENT_SCOPE)
  set(err "${err}" PARENT_SCOPE)
endfunction()

function(expect_device command_line expected_line)
  run_engine(${command_line})
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "parklock-engine ${command_line}: exit ${rc}\n${out}\n${err}")
  endif()
  string(REGEX MATCHALL "device [a-z]+ \\([^\n]*\\)\n" lines "${err}")
  list(LENGTH lines count)
  if(NOT count EQUAL 1 OR NOT err MATCHES "${expected_line}")
    message(FATAL_ERROR "parklock-engine ${command_line}: expected one line matching '${expected_line}' on stderr:\n${err}")
  endif()
  set(out "${out}" PARENT_SCOPE)
endfunction()

set(tiny_generate generate --config tiny --prompt Hi --max-tokens 4 --ignore-eos)
expect_device("${tiny_generate};--device;cpu" "parklock-engine generate: device cpu \\(requested\\)")
expect_device("${tiny_generate};--device;auto" "parklock-engine generate: device cpu \\(auto: ")
expect_device("${tiny_generate}" "parklock-engine generate: device cpu \\(auto: ")
expect_device("bench;--config;tiny;--clients;2;--requests;2;--prompt-len;8;--max-tokens;2;--json;--device;auto"
              "parklock-engine bench: device cpu \\(auto: ")
if(NOT out MATCHES "\"device\":\"cpu\"")
  message(FATAL_ERROR "bench --json does not name the backend:\n${out}")
endif()

foreach(command_line
        "${tiny_generate};--device;cuda"
        "bench;--config;tiny;--clients;1;--requests;1;--device;cuda"
        "serve;--config;tiny;--port;0;--device;cuda")
  run_engine(${command_line})
  if(NOT rc EQUAL 2 OR NOT err MATCHES "--device cuda: (no usable CUDA device|this build has no CUDA support)"
     OR out MATCHES "listening")
    message(FATAL_ERROR "parklock-engine ${command_line}: expected exit 2 and the reason, got ${rc}:\n${out}\n${err}")
  endif()
endforeach()

run_engine(${tiny_generate} --device gpu)
if(NOT rc EQUAL 2 OR NOT err MATCHES "--device")
  message(FATAL_ERROR "--device gpu: expected exit 2 and a message naming the option, got ${rc}:\n${err}")
endif()
