// `tessera chips`: lists the chip presets; `chips show NAME [--set key=value]` prints one chip's
// derived figures; `chips --params` documents every chip parameter.
#include <cstdio>

#include "arch/chip_figures.h"
#include "arch/chip_loader.h"
#include "arch/chip_params.h"
#include "cli/command.h"

namespace tessera::cli {

namespace {

void list_presets() {
  std::printf("%-16s %11s  %s\n", "chip", "bf16 TFLOPS", "description");
  for (const std::string& name : arch::preset_names()) {
    arch::ChipSpec chip = arch::load_chip(name);
    std::printf("%-16s %11.1f  %s\n", name.c_str(), arch::chip_figures(chip).bf16_flops_per_s / 1e12,
                chip.description.c_str());
  }
}

const CommandRegistrar kChips("chips", "list chip presets, show one, or document the chip parameters",
                              [](CLI::App& app) {
  struct Options {
    bool params = false;
    std::string chip;
    std::vector<std::string> overrides;
  };
  auto o = std::make_shared<Options>();
  app.add_flag("--params", o->params, "print every chip parameter (key, type, unit, default, doc)");
  app.require_subcommand(0, 1);
  CLI::App* show = app.add_subcommand("show", "print a chip's parameters and derived figures");
  show->add_option("chip", o->chip, "a preset name or a chip YAML file")->required();
  show->add_option("--set", o->overrides, "override a parameter for this run, e.g. hbm.bandwidth=4TB/s")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  return [o, show] {
    if (o->params) {
      std::printf("%s", arch::params_markdown().c_str());
    } else if (show->parsed()) {
      std::printf("%s", arch::chip_report(arch::load_chip(o->chip, o->overrides)).c_str());
    } else {
      list_presets();
    }
  };
});

}  // namespace

}  // namespace tessera::cli
