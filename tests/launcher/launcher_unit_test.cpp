// The launcher's pieces on their own: statistics, reading figures from real
// output files, placeholders, and the environment handed to commands.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

#include "ab_arms.h"
#include "ab_results.h"
#include "ab_stats.h"
#include "metric.h"
#include "placeholders.h"
#include "preload.h"
#include "usage_error.h"

namespace parklock::launcher {
namespace {

TEST(Median, OddAndEvenCounts) {
  EXPECT_EQ(median({3, 1, 2}), 2);
  EXPECT_EQ(median({4, 1, 3, 2}), 2.5);
  EXPECT_EQ(median({7}), 7);
  EXPECT_THROW(median({}), std::invalid_argument);
}

TEST(Quartiles, FiveNumbersInterpolated) {
  auto box = quartiles({5, 1, 3, 2, 4});
  EXPECT_EQ(box.min, 1);
  EXPECT_EQ(box.q1, 2);
  EXPECT_EQ(box.median, 3);
  EXPECT_EQ(box.q3, 4);
  EXPECT_EQ(box.max, 5);
  auto three = quartiles({10, 30, 20});
  EXPECT_EQ(three.q1, 15);
  EXPECT_EQ(three.q3, 25);
  EXPECT_THROW(quartiles({}), std::invalid_argument);
}

TEST(Bootstrap, SameFiguresGiveRatioOneAndAnIntervalAroundIt) {
  std::vector<double> a = {10, 11, 9, 10.5, 9.5};
  auto estimate = bootstrap_ratio_of_medians(a, a, {});
  EXPECT_DOUBLE_EQ(estimate.ratio, 1);
  EXPECT_LE(estimate.low, 1);
  EXPECT_GE(estimate.high, 1);
  EXPECT_EQ(judge(estimate, Better::lower), Verdict::no_difference);
}

TEST(Bootstrap, SeparatedArmsGiveAnIntervalThatExcludesOne) {
  std::vector<double> baseline = {10, 10.2, 9.8, 10.1, 9.9, 10.05, 9.95};
  std::vector<double> faster = {5, 5.1, 4.9, 5.05, 4.95, 5.02, 4.98};
  auto estimate = bootstrap_ratio_of_medians(faster, baseline, {});
  EXPECT_DOUBLE_EQ(estimate.ratio, 0.5);
  EXPECT_LT(estimate.high, 1);
  EXPECT_LE(estimate.low, estimate.ratio);
  EXPECT_GE(estimate.high, estimate.ratio);
  // A lower wall time is better; a lower throughput is worse.
  EXPECT_EQ(judge(estimate, Better::lower), Verdict::better);
  EXPECT_EQ(judge(estimate, Better::higher), Verdict::worse);
}

TEST(Bootstrap, SeededSoRepeatable) {
  std::mt19937_64 random(7);
  std::normal_distribution<double> noise(100, 15);
  std::vector<double> a, b;
  for (int i = 0; i < 9; ++i) a.push_back(noise(random)), b.push_back(noise(random));
  auto first = bootstrap_ratio_of_medians(a, b, {.resamples = 2000, .confidence = 0.95, .seed = 3});
  auto again = bootstrap_ratio_of_medians(a, b, {.resamples = 2000, .confidence = 0.95, .seed = 3});
  EXPECT_EQ(first.low, again.low);
  EXPECT_EQ(first.high, again.high);
  auto wider = bootstrap_ratio_of_medians(a, b, {.resamples = 2000, .confidence = 0.99, .seed = 3});
  EXPECT_LE(wider.low, first.low);
  EXPECT_GE(wider.high, first.high);
}

TEST(Bootstrap, NoRatioForZeroOrNegativeFigures) {
  EXPECT_FALSE(ratio_is_defined({1, 2}, {0, 1}));
  EXPECT_FALSE(ratio_is_defined({-1, 2}, {1, 1}));
  EXPECT_TRUE(ratio_is_defined({0, 2}, {1, 1}));
  AbResults results{{"glibc", "parklock"}, "glibc", {{1, "glibc", 0, 1}, {1, "parklock", 3, 1}}};
  auto summaries = summarize(results, Better::lower, {});
  ASSERT_EQ(summaries.size(), 2u);
  EXPECT_FALSE(summaries[1].ratio.has_value());
}

TEST(Summary, MediansAndRatiosPerArm) {
  AbResults results{{"glibc", "parklock"}, "glibc", {}};
  for (int round = 1; round <= 5; ++round) {
    results.samples.push_back({round, "glibc", 2.0 + round * 0.01, 0});
    results.samples.push_back({round, "parklock", 1.0 + round * 0.01, 0});
  }
  auto summaries = summarize(results, Better::lower, {});
  EXPECT_EQ(summaries[0].runs, 5);
  EXPECT_DOUBLE_EQ(summaries[0].median, 2.03);
  EXPECT_DOUBLE_EQ(summaries[0].min, 2.01);
  EXPECT_DOUBLE_EQ(summaries[0].max, 2.05);
  EXPECT_FALSE(summaries[0].ratio.has_value());
  ASSERT_TRUE(summaries[1].ratio.has_value());
  EXPECT_NEAR(summaries[1].ratio->ratio, 1.03 / 2.03, 1e-12);
  EXPECT_EQ(summaries[1].verdict, Verdict::better);
}

class MetricRead : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("launcher_unit_test." + std::to_string(::getpid()) + "." +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    output_ = {1.25, dir_ / "out", dir_ / "err", dir_ / "load.json"};
    write(output_.stdout_path, "");
    write(output_.stderr_path, "");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  static void write(const std::filesystem::path& path, const std::string& text) { std::ofstream(path) << text; }

  std::filesystem::path dir_;
  RunOutput output_;
};

TEST_F(MetricRead, WallTimeByDefault) {
  Metric metric({});
  EXPECT_EQ(metric.read(output_), 1.25);
  EXPECT_EQ(metric.better(), Better::lower);
  EXPECT_EQ(metric.label(), "wall time (s)");
}

TEST_F(MetricRead, LoadgenJsonFields) {
  write(output_.loadgen_json_path,
        R"({"requests_completed": 64, "output_tokens_per_s": 812.5, "ttft_ms": {"mean": 3, "median": 2.5, "p99": 9.75}})");
  Metric throughput({.loadgen_field = "output_tokens_per_s"});
  EXPECT_EQ(throughput.read(output_), 812.5);
  EXPECT_EQ(throughput.better(), Better::higher);
  Metric ttft({.loadgen_field = "ttft_ms.p99"});
  EXPECT_EQ(ttft.read(output_), 9.75);
  EXPECT_EQ(ttft.better(), Better::lower);
  EXPECT_EQ(Metric({.loadgen_field = "requests_completed"}).better(), Better::higher);
  EXPECT_EQ(Metric({.loadgen_field = "requests_failed"}).better(), Better::lower);
  // A field parklock-loadgen writes but this run's file lacks.
  EXPECT_THROW(Metric({.loadgen_field = "itl_ms.p99"}).read(output_), UsageError);
}

TEST_F(MetricRead, LoadgenJsonRefusesUnknownFieldsAndMissingFiles) {
  EXPECT_THROW(Metric({.loadgen_field = "tokens"}), UsageError);
  EXPECT_THROW(Metric({.loadgen_field = "output_tokens_per_s"}).read(output_), UsageError);
}

TEST_F(MetricRead, JsonFieldOnStdoutAfterProgressLines) {
  write(output_.stdout_path, "warming up\n{\"latency\": {\"p50_ms\": 4.5}, \"runs\": [7, 8]}\n");
  Metric latency({.json_field = "latency.p50_ms"});
  EXPECT_EQ(latency.read(output_), 4.5);
  EXPECT_EQ(latency.better(), Better::lower);
  EXPECT_EQ(Metric({.json_field = "runs.1", .better = "higher"}).read(output_), 8);
  EXPECT_THROW(Metric({.json_field = "latency.p99_ms"}).read(output_), UsageError);
  // A name that says nothing about its direction needs --better.
  EXPECT_THROW(Metric({.json_field = "runs.1"}), UsageError);
  EXPECT_THROW(Metric({.json_field = "a..b", .better = "lower"}), UsageError);
}

TEST_F(MetricRead, RegexTakesTheLastMatchOverStdoutThenStderr) {
  write(output_.stdout_path, "rate: 10 ops\n");
  write(output_.stderr_path, "rate: 12.5 ops\nrate: 1.5e3 ops\n");
  Metric rate({.regex = R"(rate: (\S+) ops)", .better = "higher"});
  EXPECT_EQ(rate.read(output_), 1500);
  EXPECT_THROW(Metric({.regex = R"(rate: (\S+) ops)"}), UsageError);  // no direction
  EXPECT_THROW(Metric({.regex = "(", .better = "higher"}), UsageError);
  EXPECT_THROW(Metric({.regex = "(a)(b)", .better = "higher"}), UsageError);
  EXPECT_THROW(Metric({.regex = "nothing like this", .better = "higher"}).read(output_), UsageError);
  EXPECT_THROW(Metric({.regex = "(ops)", .better = "higher"}).read(output_), UsageError);
  Metric named({.regex = R"(rate: (\S+) ops)", .name = "ops_per_s"});
  EXPECT_EQ(named.better(), Better::higher);
  EXPECT_EQ(named.label(), "ops_per_s");
}

TEST(MetricChoice, OneSourceAtATime) {
  EXPECT_THROW(Metric({.loadgen_field = "duration_s", .regex = "x", .better = "lower"}), UsageError);
  EXPECT_THROW(Metric({.better = "sideways"}), UsageError);
}

TEST(DirectionFromName, ThroughputsUpLatenciesDown) {
  EXPECT_EQ(direction_from_name("requests_per_s"), Better::higher);
  EXPECT_EQ(direction_from_name("throughput"), Better::higher);
  EXPECT_EQ(direction_from_name("e2e_ms.median"), Better::lower);
  EXPECT_EQ(direction_from_name("p99_latency"), Better::lower);
  EXPECT_EQ(direction_from_name("elapsed_s"), Better::lower);
  EXPECT_EQ(direction_from_name("count"), std::nullopt);
}

TEST(Placeholders, KnownNamesOnly) {
  EXPECT_EQ(substitute("load --url {url}/v1 --json {json} {url}", {{"url", "http://h:1"}, {"json", "/t/x.json"}}),
            "load --url http://h:1/v1 --json /t/x.json http://h:1");
  EXPECT_EQ(substitute("awk '{print $1}' {port}", {{"port", "8080"}}), "awk '{print $1}' 8080");
  EXPECT_TRUE(mentions("serve --port {port}", "port"));
  EXPECT_FALSE(mentions("serve --port 0", "port"));
}

TEST(PreloadEnvironment, PrependsOnceAndKeepsOtherPreloads) {
  Environment base = {"PATH=/bin", "LD_PRELOAD=/old/libparklock.so:libfoo.so libbar.so", "PARKLOCK_TOP=3"};
  PreloadSettings settings;
  settings.metrics = "9464";
  settings.observe_only = true;
  settings.sample = 10;
  auto environment = with_preload(base, "/new/libparklock.so", settings);
  auto has = [&](const std::string& entry) {
    return std::find(environment.begin(), environment.end(), entry) != environment.end();
  };
  EXPECT_TRUE(has("LD_PRELOAD=/new/libparklock.so:libfoo.so:libbar.so"));
  EXPECT_TRUE(has("PARKLOCK_METRICS=9464"));
  EXPECT_TRUE(has("PARKLOCK_LOCKS=glibc"));
  EXPECT_TRUE(has("PARKLOCK_SAMPLE=10"));
  EXPECT_TRUE(has("PARKLOCK_TOP=3"));  // `run` keeps what the user set
  EXPECT_TRUE(has("PATH=/bin"));
  EXPECT_FALSE(has("PARKLOCK_RECORD=1"));
}

TEST(PreloadEnvironment, WithoutPreloadDropsOnlyParklock) {
  Environment base = {"PATH=/bin", "LD_PRELOAD=/x/libparklock.so:libfoo.so", "PARKLOCK_METRICS=1", "PARKLOCKED=1"};
  EXPECT_EQ(without_preload(base), (Environment{"PATH=/bin", "PARKLOCKED=1", "LD_PRELOAD=libfoo.so"}));
  EXPECT_EQ(without_preload({"LD_PRELOAD=/x/libparklock.so"}), Environment{});
}

TEST(Arms, SettingsPerArm) {
  auto arms = arms_from_list("observe,glibc,record,parklock");
  ASSERT_EQ(arms.size(), 4u);
  EXPECT_EQ(arms[0].name, "observe");
  Environment base = {"PARKLOCK_REPORT=stderr", "HOME=/root"};
  auto observe = environment_for(arms[0], base, "/l/libparklock.so");
  EXPECT_EQ(observe, (Environment{"HOME=/root", "LD_PRELOAD=/l/libparklock.so", "PARKLOCK_LOCKS=glibc",
                                  "PARKLOCK_RECORD=1"}));
  EXPECT_EQ(environment_for(arms[1], base, "/l/libparklock.so"), Environment{"HOME=/root"});
  EXPECT_EQ(environment_for(arms[2], base, "/l/libparklock.so"),
            (Environment{"HOME=/root", "LD_PRELOAD=/l/libparklock.so", "PARKLOCK_RECORD=1"}));
  EXPECT_EQ(environment_for(arms[3], base, "/l/libparklock.so"),
            (Environment{"HOME=/root", "LD_PRELOAD=/l/libparklock.so"}));
}

TEST(Arms, RefusesUnknownRepeatedAndSingleArms) {
  EXPECT_THROW(arms_from_list("glibc,fast"), UsageError);
  EXPECT_THROW(arms_from_list("glibc,glibc"), UsageError);
  EXPECT_THROW(arms_from_list("glibc"), UsageError);
  EXPECT_THROW(arms_from_list(""), UsageError);
}

}  // namespace
}  // namespace parklock::launcher
