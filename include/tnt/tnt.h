/*
 * libtnt — track-and-trace of consumer goods (GS1 EPCIS 2.0).
 * The umbrella header: include this one.
 * SPDX-License-Identifier: MIT
 */
#ifndef TNT_TNT_H
#define TNT_TNT_H

#include "tnt/version.h"
#include "common.h"
#include "ids.h"
#include "event.h"
#include "document.h"
#include "engine.h"
#include "auth.h"

#endif /* TNT_TNT_H */
