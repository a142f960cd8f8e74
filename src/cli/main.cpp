// The `tessera` program: dispatches to the registered subcommands; user errors become one
// line on stderr and exit code 1.
#include <cstdio>
#include <cstdlib>
#include <unistd.h>
#include <map>

#include "base/error.h"
#include "cli/command.h"

namespace tessera::cli {

namespace {
std::vector<RegisteredCommand>& commands() {
  static std::vector<RegisteredCommand> c;
  return c;
}
}  // namespace

CommandRegistrar::CommandRegistrar(const std::string& name, const std::string& description, CommandDefinition define) {
  commands().push_back({name, description, std::move(define)});
}

const std::vector<RegisteredCommand>& registered_commands() { return commands(); }

}  // namespace tessera::cli

// libgomp reads OMP_WAIT_POLICY when it loads, before main. Its default spins idle threads,
// which on a shared machine starves the threads they wait for (measured: an MLP step 20x
// slower on a loaded 2-core machine). Unless the user chose a policy, re-run with "passive".
static void prefer_passive_openmp_waiting(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY")) return;
  setenv("OMP_WAIT_POLICY", "passive", 1);
  execv("/proc/self/exe", argv);  // returns only on failure: then carry on as we are
}

int main(int argc, char** argv) {
  using namespace tessera::cli;
  prefer_passive_openmp_waiting(argv);
  CLI::App app{"Tessera: an AI training chip and its software stack"};
  app.require_subcommand(1);
  std::map<CLI::App*, std::function<void()>> runners;
  for (const RegisteredCommand& command : registered_commands()) {
    CLI::App* sub = app.add_subcommand(command.name, command.description);
    runners[sub] = command.define(*sub);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    for (CLI::App* sub : app.get_subcommands()) runners.at(sub)();
  } catch (const tessera::Error& e) {
    std::fprintf(stderr, "tessera: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
