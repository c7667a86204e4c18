# SPDX-License-Identifier: GPL-2.0-only
# Host tests. Each concern has its own fragment tests/*.mk beside this one.

include $(filter-out $(SRC)/tests/tests.mk,$(wildcard $(SRC)/tests/*.mk))
