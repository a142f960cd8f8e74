// Subcommands of the `tessera` program register themselves here (one file per command).
#pragma once
#include <CLI/CLI.hpp>
#include <functional>
#include <string>

namespace tessera::cli {

// `define` adds the subcommand's options to `app` and returns the function that runs it.
using CommandDefinition = std::function<std::function<void()>(CLI::App& app)>;

struct CommandRegistrar {
  CommandRegistrar(const std::string& name, const std::string& description, CommandDefinition define);
};

struct RegisteredCommand {
  std::string name, description;
  CommandDefinition define;
};
const std::vector<RegisteredCommand>& registered_commands();

}  // namespace tessera::cli
