#include "config/env_substitution.hpp"

#include <map>

#include <gtest/gtest.h>

namespace fairlead::config {
namespace {

EnvLookup fakeEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

std::string subst(std::string_view text, const EnvLookup& env) {
  auto out = substituteEnv(text, env);
  EXPECT_TRUE(out) << out.error();
  return out.value_or("<error>");
}

std::string substError(std::string_view text, const EnvLookup& env) {
  auto out = substituteEnv(text, env);
  EXPECT_FALSE(out) << "unexpectedly got '" << out.value_or("") << "'";
  return out ? std::string() : out.error();
}

TEST(SubstituteEnv, LeavesPlainTextAlone) {
  const auto env = fakeEnv({});
  EXPECT_EQ(subst("", env), "");
  EXPECT_EQ(subst("127.0.0.1:8000", env), "127.0.0.1:8000");
  EXPECT_EQ(subst("{not a var}", env), "{not a var}");
}

TEST(SubstituteEnv, ReplacesVariables) {
  const auto env = fakeEnv({{"HOST", "10.0.0.5"}, {"PORT", "9000"}});
  EXPECT_EQ(subst("${HOST}", env), "10.0.0.5");
  EXPECT_EQ(subst("${HOST}:${PORT}", env), "10.0.0.5:9000");
  EXPECT_EQ(subst("http://${HOST}/x", env), "http://10.0.0.5/x");
}

TEST(SubstituteEnv, SetButEmptyVariableIsEmpty) {
  EXPECT_EQ(subst("a${EMPTY}b", fakeEnv({{"EMPTY", ""}})), "ab");
}

TEST(SubstituteEnv, DefaultAppliesWhenUnsetOrEmpty) {
  const auto env = fakeEnv({{"SET", "x"}, {"EMPTY", ""}});
  EXPECT_EQ(subst("${SET:-d}", env), "x");
  EXPECT_EQ(subst("${UNSET:-d}", env), "d");
  EXPECT_EQ(subst("${EMPTY:-d}", env), "d");  // as in POSIX sh
  EXPECT_EQ(subst("${UNSET:-}", env), "");
  EXPECT_EQ(subst("${UNSET:-127.0.0.1:8000}", env), "127.0.0.1:8000");  // ':' in a default is fine
  EXPECT_EQ(subst("${UNSET:-a:-b}", env), "a:-b");
}

TEST(SubstituteEnv, DoubleDollarIsALiteralDollar) {
  const auto env = fakeEnv({{"X", "1"}});
  EXPECT_EQ(subst("$$", env), "$");
  EXPECT_EQ(subst("$${X}", env), "${X}");
  EXPECT_EQ(subst("$$$${X}", env), "$${X}");
  EXPECT_EQ(subst("$$${X}", env), "$1");
}

TEST(SubstituteEnv, OtherDollarsStay) {
  const auto env = fakeEnv({});
  EXPECT_EQ(subst("$", env), "$");
  EXPECT_EQ(subst("a$b", env), "a$b");
  EXPECT_EQ(subst("cost: 5$", env), "cost: 5$");
  EXPECT_EQ(subst("$X", env), "$X");
}

TEST(SubstituteEnv, ValuesAreNotSubstitutedAgain) {
  EXPECT_EQ(subst("${A}", fakeEnv({{"A", "${B}"}, {"B", "no"}})), "${B}");
}

TEST(SubstituteEnv, UnsetWithoutDefaultIsAnError) {
  EXPECT_EQ(substError("${APP_PORT}", fakeEnv({})),
            "environment variable 'APP_PORT' is not set (write ${APP_PORT:-default} to give it a default)");
  EXPECT_EQ(substError("ok ${A} ${MISSING}", fakeEnv({{"A", "1"}})),
            "environment variable 'MISSING' is not set (write ${MISSING:-default} to give it a default)");
}

TEST(SubstituteEnv, RejectsMalformedReferences) {
  const auto env = fakeEnv({});
  EXPECT_EQ(substError("${HOST", env), "unterminated '${' in '${HOST' (write $$ for a literal '$')");
  EXPECT_EQ(substError("${}", env), "bad variable name '' in '${}' (expected ${NAME} or ${NAME:-default})");
  EXPECT_EQ(substError("${1X}", env), "bad variable name '1X' in '${1X}' (expected ${NAME} or ${NAME:-default})");
  EXPECT_EQ(substError("${A-b}", env), "bad variable name 'A-b' in '${A-b}' (expected ${NAME} or ${NAME:-default})");
  EXPECT_EQ(substError("${A:?oops}", env),
            "bad variable name 'A:?oops' in '${A:?oops}' (expected ${NAME} or ${NAME:-default})");
  EXPECT_EQ(substError("${A:-${B}}", env), "nested '${' in the default of '${A:-${B}' is not supported");
}

TEST(SubstituteEnv, ProcessEnvironmentReadsGetenv) {
  ::setenv("FAIRLEAD_TEST_ENV_SUBST", "from-env", 1);
  ::unsetenv("FAIRLEAD_TEST_ENV_UNSET");
  const EnvLookup env = processEnvironment();
  EXPECT_EQ(env("FAIRLEAD_TEST_ENV_SUBST"), "from-env");
  EXPECT_EQ(env("FAIRLEAD_TEST_ENV_UNSET"), std::nullopt);
  ::unsetenv("FAIRLEAD_TEST_ENV_SUBST");
}

}  // namespace
}  // namespace fairlead::config
