#include "pipelines/parse/parse.h"  // owner fills this in
