# SPDX-License-Identifier: GPL-2.0-only
# The unit test of `xcall run --timeline`'s arithmetic (cli/tlstat.c),
# run by check-unit like every tests/unit/test_*.c.
$(B)/tests/unit/test_timeline.o: XCFLAGS += -I$(SRC)/cli
$(B)/tests/unit/test_timeline: $(B)/tests/unit/test_timeline.o \
			       $(B)/cli/tlstat.o $(B)/cli/format.o $(XT_LIB) \
			       $(LIBXCALL_A)
	$(call link,$(CHECK_LIBS))
