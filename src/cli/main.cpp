// The `tessera` program: dispatches to the registered subcommands; user errors become one
// line on stderr and exit code 1.
#include <cstdio>
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

int main(int argc, char** argv) {
  using namespace tessera::cli;
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
