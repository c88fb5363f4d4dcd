#include "tests/unit/tcp/tcp_fixture.h"
