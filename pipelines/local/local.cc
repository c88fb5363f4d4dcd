#include "pipelines/local/local.h"  // owner fills this in
