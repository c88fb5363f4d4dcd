#include "control/config/nic_profile.h"  // owner fills this in
