# `cmake --install`: the preload and its exporter, the public header, the launcher, and a
# pkg-config file. The launcher finds the preload at ../${CMAKE_INSTALL_LIBDIR}
# from its own directory, so the two must keep this layout.
install(TARGETS parklock LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
# The preload loads its exporter from its own directory.
if(TARGET parklock_exporter)
  install(TARGETS parklock_exporter LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
endif()
install(TARGETS parklock_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${PROJECT_SOURCE_DIR}/interposer/include/parklock.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
# The .pc file finds its prefix from where it lies (${pcfiledir}), so it
# stays right for `cmake --install --prefix` and DESTDIR installs.
file(RELATIVE_PATH PARKLOCK_PC_TO_PREFIX /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
string(REGEX REPLACE "/$" "" PARKLOCK_PC_TO_PREFIX ${PARKLOCK_PC_TO_PREFIX})
configure_file(${CMAKE_CURRENT_LIST_DIR}/parklock.pc.in ${PROJECT_BINARY_DIR}/parklock.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/parklock.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
