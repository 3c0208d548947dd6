# CUDA backend detection. PARKLOCK_CUDA=AUTO compiles kernels/cuda whenever
# nvcc is found (on PATH, via CUDACXX, or at /usr/local/cuda/bin/nvcc), ON
# requires it, OFF skips it. Sets PARKLOCK_HAVE_CUDA.
#
# Architectures: 90-real emits SASS for sm_90 (H100/H200, the GPUs this
# backend is tuned and benchmarked on); 90-virtual adds the compute_90 PTX,
# which the driver JIT-compiles on newer GPUs (forward compatibility for one
# extra PTX blob, cheap at build time). CUDA 13 no longer targets the older
# architectures CMake would otherwise default to. Override with
# -DCMAKE_CUDA_ARCHITECTURES=... for other cards.
#
# cudart and cuBLASLt are linked dynamically and only the runtime API is
# used: the binaries start on machines with no GPU or no driver (no
# libcuda.so), where cuda_device_available() reports false.
set(PARKLOCK_CUDA AUTO CACHE STRING "Build the CUDA backend: AUTO (when nvcc is found), ON or OFF")
set_property(CACHE PARKLOCK_CUDA PROPERTY STRINGS AUTO ON OFF)

set(PARKLOCK_HAVE_CUDA OFF)
if(NOT PARKLOCK_CUDA STREQUAL "OFF")
  if(NOT CMAKE_CUDA_COMPILER AND NOT DEFINED ENV{CUDACXX} AND EXISTS /usr/local/cuda/bin/nvcc)
    find_program(_parklock_nvcc_on_path nvcc)
    if(NOT _parklock_nvcc_on_path)
      set(ENV{CUDACXX} /usr/local/cuda/bin/nvcc)
    endif()
  endif()
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
      set(CMAKE_CUDA_ARCHITECTURES 90-real 90-virtual)
    endif()
    if(NOT DEFINED CMAKE_CUDA_HOST_COMPILER)
      set(CMAKE_CUDA_HOST_COMPILER ${CMAKE_CXX_COMPILER})
    endif()
    # cudart as a shared library for every target (cuBLASLt is shared too).
    set(CMAKE_CUDA_RUNTIME_LIBRARY Shared)
    enable_language(CUDA)
    # C++20 in device code as in host code. CMake 3.25 does not know nvcc
    # 13's C++20 flag, so name it.
    if(NOT CMAKE_CUDA20_STANDARD_COMPILE_OPTION)
      set(CMAKE_CUDA20_STANDARD_COMPILE_OPTION "-std=c++20")
      set(CMAKE_CUDA20_EXTENSION_COMPILE_OPTION "-std=c++20")
    endif()
    set(CMAKE_CUDA_STANDARD 20)
    set(CMAKE_CUDA_STANDARD_REQUIRED ON)
    set(CMAKE_CUDA_EXTENSIONS OFF)
    find_package(CUDAToolkit REQUIRED)
    set(PARKLOCK_HAVE_CUDA ON)
    message(STATUS "parklock: CUDA backend on (${CMAKE_CUDA_COMPILER}, architectures ${CMAKE_CUDA_ARCHITECTURES})")
  elseif(PARKLOCK_CUDA STREQUAL "ON")
    message(FATAL_ERROR "PARKLOCK_CUDA=ON but no CUDA compiler was found (set CUDACXX or CMAKE_CUDA_COMPILER)")
  else()
    message(STATUS "parklock: no CUDA compiler found, CUDA backend off")
  endif()
endif()
