# Post-build checks and reports for bare-metal firmware images (cmake -P).
#
#   MODE=image:  -DIMAGE=<elf> -DSIZE=<arm-none-eabi-size> -DNM=<arm-none-eabi-nm> -DOUT=<file>
#     Prints the image's text/data/bss (Berkeley format) into the build log, writes that line
#     to OUT, and fails (removing the image) if newlib's heap got linked: firmware does not
#     allocate (docs: FreeRTOS-style static allocation), and pe.ld provides no heap.
#   MODE=merge:  -DDIR=<dir of .size files> -DOUT=<sizes.txt>
#     Concatenates every image's line under one header, sorted by image name.
cmake_minimum_required(VERSION 3.21)

set(header "   text\t   data\t    bss\t    dec\t    hex\tfilename")

if(MODE STREQUAL "image")
  get_filename_component(dir "${IMAGE}" DIRECTORY)
  get_filename_component(file "${IMAGE}" NAME)
  execute_process(COMMAND "${SIZE}" -B "${file}" WORKING_DIRECTORY "${dir}"
    OUTPUT_VARIABLE out RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${SIZE} failed on ${IMAGE}")
  endif()
  string(FIND "${out}" "\n" eol)
  math(EXPR eol "${eol} + 1")
  string(SUBSTRING "${out}" ${eol} -1 line)
  string(REGEX REPLACE "\n+$" "" line "${line}")
  message("firmware size:\n${header}\n${line}")
  file(WRITE "${OUT}" "${line}\n")

  execute_process(COMMAND "${NM}" "${IMAGE}" OUTPUT_VARIABLE syms RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${NM} failed on ${IMAGE}")
  endif()
  string(REGEX MATCHALL "[ \t](_?malloc|_malloc_r|_?calloc|_?realloc|_?free|_free_r|_sbrk|_sbrk_r)\n"
    heap "${syms}")
  if(heap)
    file(REMOVE "${IMAGE}")
    string(REPLACE "\n" "" heap "${heap}")
    message(FATAL_ERROR "${IMAGE}: firmware must not allocate, but links${heap}")
  endif()
elseif(MODE STREQUAL "merge")
  file(GLOB parts "${DIR}/*.size")
  list(SORT parts)
  set(text "${header}\n")
  foreach(p IN LISTS parts)
    file(READ "${p}" line)
    string(APPEND text "${line}")
  endforeach()
  file(WRITE "${OUT}" "${text}")
else()
  message(FATAL_ERROR "fw-image.cmake: MODE must be image or merge")
endif()
