#include "control/config/gateway_config.h"  // owner fills this in
