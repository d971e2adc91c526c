# Post-build checks and reports for bare-metal firmware images (cmake -P).
#
#   MODE=image:  -DIMAGE=<elf> -DSIZE=<arm-none-eabi-size> -DNM=<arm-none-eabi-nm> -DOUT=<file>
#     Prints the image's text/data/bss (Berkeley format), its CODE region's size and the bytes
#     of it still free (pe.ld's __s2_code_length and __s2_code_end) into the build log, writes
#     that line to OUT, and fails (removing the image) if newlib's heap got linked: firmware
#     does not allocate (docs: FreeRTOS-style static allocation), and pe.ld provides no heap.
#     (An image that outgrows CODE never gets here: pe.ld fails its link.)
#   MODE=merge:  -DDIR=<dir of .size files> -DOUT=<sizes.txt>
#     Concatenates every image's line under one header, sorted by image name.
cmake_minimum_required(VERSION 3.21)

# value right-aligned in 7 columns, as size's Berkeley format
function(rjust var value)
  string(LENGTH "${value}" n)
  set(s "${value}")
  while(n LESS 7)
    string(PREPEND s " ")
    math(EXPR n "${n} + 1")
  endwhile()
  set(${var} "${s}" PARENT_SCOPE)
endfunction()

set(header "   text\t   data\t    bss\t    dec\t    hex\t   CODE\t   free\tfilename")

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

  execute_process(COMMAND "${NM}" "${IMAGE}" OUTPUT_VARIABLE syms RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${NM} failed on ${IMAGE}")
  endif()
  # The CODE region: its size and the bytes above what the image puts in it.
  if(NOT syms MATCHES "([0-9a-f]+) [A-Za-z] __s2_code_length\n")
    message(FATAL_ERROR "${IMAGE}: no __s2_code_length (not linked with pe.ld?)")
  endif()
  math(EXPR code_len "0x${CMAKE_MATCH_1}")
  if(NOT syms MATCHES "([0-9a-f]+) [A-Za-z] __s2_code_end\n")
    message(FATAL_ERROR "${IMAGE}: no __s2_code_end (not linked with pe.ld?)")
  endif()
  math(EXPR code_free "${code_len} - 0x${CMAKE_MATCH_1}")
  string(REGEX REPLACE "\t([^\t]*)$" "" berkeley "${line}")
  string(REGEX MATCH "[^\t]*$" file_name "${line}")
  rjust(code_len_col "${code_len}")
  rjust(code_free_col "${code_free}")
  set(line "${berkeley}\t${code_len_col}\t${code_free_col}\t${file_name}")
  message("firmware size:\n${header}\n${line}\n${file_name}: ${code_free} of the ${code_len} bytes of CODE free")
  file(WRITE "${OUT}" "${line}\n")

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
