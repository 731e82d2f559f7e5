/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Cairn plugin SDK in one include. Plugins need only this header.
 */
#ifndef CAIRN_CAIRN_H
#define CAIRN_CAIRN_H

#include "cairn/version.h"
#include "cairn/status.h"
#include "cairn/dataset.h"
#include "cairn/service.h"
#include "cairn/index.h"
#include "cairn/plugin.h"

#endif
