// Entry points of the kgw multi-call binary's subcommands.
#pragma once

namespace kgw {
int dataplane_main(int argc, char** argv);
int control_main(int argc, char** argv);
int cli_main(int argc, char** argv);
int replay_main(int argc, char** argv);
int validate_main(int argc, char** argv);
int route_check_main(int argc, char** argv);
int policy_check_main(int argc, char** argv);
int dns_check_main(int argc, char** argv);
}  // namespace kgw
