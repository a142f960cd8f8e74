// Parsing and printing of sizes, bandwidths, frequencies and durations.
#include "arch/units.h"

#include <gtest/gtest.h>

#include "arch_test_util.h"

namespace tessera::arch {
namespace {

using testing::error_text;

TEST(Units, SizesInDecimalAndBinaryUnits) {
  EXPECT_EQ(parse_in("1.5MiB", Dimension::size), 1572864.0);
  EXPECT_EQ(parse_in("64MiB", Dimension::size), 67108864.0);
  EXPECT_EQ(parse_in("96GB", Dimension::size), 96e9);
  EXPECT_EQ(parse_in("228KiB", Dimension::size), 233472.0);
  EXPECT_EQ(parse_in("50MB", Dimension::size), 50e6);
  EXPECT_EQ(parse_in("1GiB", Dimension::size), 1073741824.0);
  EXPECT_EQ(parse_in("2TB", Dimension::size), 2e12);
  EXPECT_EQ(parse_in("512 B", Dimension::size), 512.0);
  EXPECT_EQ(parse_in(" 4 KB ", Dimension::size), 4000.0);
  EXPECT_EQ(parse_in("4096", Dimension::size), 4096.0);  // a plain number is bytes
}

TEST(Units, BandwidthsFrequenciesDurations) {
  EXPECT_EQ(parse_in("3.2TB/s", Dimension::bandwidth), 3.2e12);
  EXPECT_EQ(parse_in("100GB/s", Dimension::bandwidth), 100e9);
  EXPECT_EQ(parse_in("1MiB/s", Dimension::bandwidth), 1048576.0);
  EXPECT_EQ(parse_in("1.6GHz", Dimension::frequency), 1.6e9);
  EXPECT_EQ(parse_in("700MHz", Dimension::frequency), 700e6);
  EXPECT_EQ(parse_in("21us", Dimension::duration), 21e-6);
  EXPECT_EQ(parse_in("500ns", Dimension::duration), 500e-9);
  EXPECT_EQ(parse_in("2ms", Dimension::duration), 2e-3);
  EXPECT_EQ(parse_in("1e3", Dimension::none), 1000.0);
  Quantity q = parse_quantity("8TB/s");
  EXPECT_EQ(q.dimension, Dimension::bandwidth);
  EXPECT_EQ(q.value, 8e12);
  EXPECT_EQ(parse_quantity("-3").value, -3.0);
}

TEST(Units, WrongDimensionNamesBoth) {
  EXPECT_EQ(error_text([] { parse_in("3.2TB", Dimension::bandwidth); }),
            "'3.2TB' is a size, expected a bandwidth such as 3.2TB/s");
  EXPECT_EQ(error_text([] { parse_in("1.6GHz", Dimension::size); }),
            "'1.6GHz' is a frequency, expected a size such as 64MiB");
  EXPECT_EQ(error_text([] { parse_in("21us", Dimension::none); }),
            "'21us' is a duration, expected a plain number such as 32");
}

TEST(Units, UnreadableTextListsUnits) {
  EXPECT_EQ(error_text([] { parse_quantity("fast"); }), "'fast' is not a number with an optional unit");
  EXPECT_EQ(error_text([] { parse_quantity(""); }), "'' is not a number with an optional unit");
  EXPECT_EQ(error_text([] { parse_quantity("inf"); }), "'inf' is not a number with an optional unit");
  EXPECT_EQ(error_text([] { parse_quantity("100Gb/s"); }),
            "'100Gb/s' has an unknown unit 'Gb/s' (valid: B KB MB GB TB KiB MiB GiB TiB, each also with /s; "
            "Hz kHz MHz GHz; s ms us ns)");
}

TEST(Units, Formatting) {
  EXPECT_EQ(format_quantity(1572864, Dimension::size), "1.5 MiB");
  EXPECT_EQ(format_quantity(96e9, Dimension::size), "96 GB");
  EXPECT_EQ(format_quantity(60e6, Dimension::size), "60 MB");
  EXPECT_EQ(format_quantity(512, Dimension::size), "512 B");
  EXPECT_EQ(format_quantity(0, Dimension::size), "0 B");
  EXPECT_EQ(format_quantity(78210816, Dimension::size), "78.21 MB");  // exact in neither
  EXPECT_EQ(format_quantity(3.2e12, Dimension::bandwidth), "3.2 TB/s");
  EXPECT_EQ(format_quantity(50e9, Dimension::bandwidth), "50 GB/s");
  EXPECT_EQ(format_quantity(1.83e9, Dimension::frequency), "1.83 GHz");
  EXPECT_EQ(format_quantity(21e-6, Dimension::duration), "21 us");
  EXPECT_EQ(format_quantity(0, Dimension::duration), "0 s");
  EXPECT_EQ(format_quantity(1e6, Dimension::none), "1000000");
}

TEST(Units, FormattedTextParsesBack) {
  for (double bytes : {1572864.0, 96e9, 60e6, 233472.0, 67108864.0}) {
    std::string text = format_quantity(bytes, Dimension::size);
    std::erase(text, ' ');
    EXPECT_EQ(parse_in(text, Dimension::size), bytes) << text;
  }
}

}  // namespace
}  // namespace tessera::arch
