#include "engine/serving/stop_matcher.h"

#include <gtest/gtest.h>

namespace parklock::engine {
namespace {

TEST(StopMatcher, WithoutStopsEverythingStreams) {
  StopMatcher m({});
  EXPECT_EQ(m.append("hello").emit, "hello");
  EXPECT_FALSE(m.append(" world").stopped);
  EXPECT_EQ(m.flush(), "");
  EXPECT_EQ(m.text(), "hello world");
}

TEST(StopMatcher, StopsAcrossPiecesAndHoldsBackPossiblePrefixes) {
  StopMatcher m({"END"});
  auto r = m.append("abcE");
  EXPECT_EQ(r.emit, "abc");  // "E" could start "END"
  EXPECT_FALSE(r.stopped);
  r = m.append("N");
  EXPECT_EQ(r.emit, "");
  r = m.append("Dxyz");
  EXPECT_TRUE(r.stopped);
  EXPECT_EQ(r.emit, "");
  EXPECT_EQ(m.text(), "abc");
  EXPECT_TRUE(m.append("more").stopped);
}

TEST(StopMatcher, ReleasesHeldTextWhenItDoesNotMatch) {
  StopMatcher m({"END"});
  EXPECT_EQ(m.append("xEN").emit, "x");
  EXPECT_EQ(m.append("O").emit, "ENO");
  EXPECT_EQ(m.append("E").emit, "");
  EXPECT_EQ(m.flush(), "E");  // generation ended for another reason
  EXPECT_EQ(m.text(), "xENOE");
}

TEST(StopMatcher, EarliestOfSeveralStopsWins) {
  StopMatcher m({"world", "lo w"});
  auto r = m.append("hello world");
  EXPECT_TRUE(r.stopped);
  EXPECT_EQ(r.emit, "hel");
  EXPECT_EQ(m.text(), "hel");
}

TEST(StopMatcher, EmptyStopStringIsIgnored) {
  StopMatcher m({""});
  EXPECT_EQ(m.append("abc").emit, "abc");
}

}  // namespace
}  // namespace parklock::engine
