#include "config/loader.hpp"

#include <cerrno>
#include <cstdio>
#include <memory>
#include <optional>
#include <sstream>
#include <system_error>

#include <fmt/format.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include "config/diagnostics.hpp"
#include "config/schema.hpp"
#include "config/validate.hpp"
#include "config/yaml_reader.hpp"

namespace fairlead::config {
namespace {

std::string joinLines(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& line : lines) {
    if (!out.empty()) out += '\n';
    out += line;
  }
  return out;
}

tl::expected<std::string, int> readWholeFile(const std::string& path) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) return tl::unexpected(errno);
  std::string content;
  char buf[16 * 1024];
  while (true) {
    const std::size_t n = std::fread(buf, 1, sizeof buf, file.get());
    content.append(buf, n);
    if (n < sizeof buf) break;
  }
  // fopen() succeeds on a directory; the read is what fails (EISDIR).
  if (std::ferror(file.get())) return tl::unexpected(errno != 0 ? errno : EIO);
  return content;
}

std::string_view lineAt(std::string_view text, int line) {
  std::size_t start = 0;
  for (int i = 0; i < line; ++i) {
    start = text.find('\n', start);
    if (start == std::string_view::npos) return {};
    ++start;
  }
  return text.substr(start, text.find('\n', start) - start);
}

// Two slips whose yaml-cpp messages ("end of map flow not found", "illegal map value") do not name
// the cause: the braces of an unquoted ${VAR} inside [ ] or { } are YAML syntax, and YAML forbids
// indenting with tabs.
std::string syntaxHint(std::string_view text, Location at) {
  const std::string_view line = lineAt(text, at.line);
  if (line.find("${") != std::string_view::npos) return " (inside [ ] or { }, a ${VAR} must be quoted: \"${VAR}\")";
  const std::size_t indent_end = line.find_first_not_of(' ');
  if (indent_end != std::string_view::npos && line[indent_end] == '\t') {
    return " (YAML is indented with spaces, not tabs)";
  }
  return {};
}

// Semantic issues, placed at the line of the value they concern. An issue about a value the loader
// already reported (a default left in place of a broken one) would repeat that mistake; skip it.
void addValidatorIssues(const Config& config, const YamlReader& reader, Diagnostics& diagnostics) {
  for (Issue& issue : findIssues(config)) {
    if (diagnostics.covers(issue.path)) continue;
    std::string message = std::move(issue.message);
    if (!issue.first_path.empty()) {
      if (const Location first = reader.locate(issue.first_path); first.known()) {
        message += fmt::format(" ({} line {})", issue.warning ? "see" : "first at", first.line + 1);
      }
    }
    const Location at = reader.locate(issue.path);
    if (issue.warning) {
      diagnostics.warning(at, std::move(issue.path), std::move(message));
    } else {
      diagnostics.error(at, std::move(issue.path), std::move(message));
    }
  }
}

// The documents of a text as yaml-cpp's parser walks them, without building them. yaml-cpp 0.7's
// LoadAll never returns on a document its parser cannot consume (a ',' at the top level: it adds
// an empty document, again and again, until memory runs out; jbeder/yaml-cpp#1040, fixed upstream
// in 2024), so a typo in a reloaded file could take the running proxy down. A document that starts
// where the one before started is that case: the walk stops there.
class DocumentWalk final : public YAML::EventHandler {
 public:
  // Where each document after the first that holds something starts (a trailing '---' holds
  // nothing), and where the parser stopped making progress, if it did.
  std::vector<YAML::Mark> later;
  std::optional<YAML::Mark> stuck;

  explicit DocumentWalk(const std::string& text) {
    std::istringstream in(text);
    YAML::Parser parser(in);
    std::optional<std::size_t> last_start;
    for (std::size_t index = 0;; ++index) {
      content_.reset();
      if (!parser.HandleNextDocument(*this)) break;
      if (last_start == start_.pos) {
        stuck = start_;
        break;
      }
      last_start = start_.pos;
      if (index > 0 && content_) later.push_back(*content_);
    }
  }

  void OnDocumentStart(const YAML::Mark& mark) override { start_ = mark; }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { content(mark); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t, const std::string&) override {
    content(mark);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    content(mark);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    content(mark);
  }
  void OnMapEnd() override {}

 private:
  void content(const YAML::Mark& mark) {
    if (!content_) content_ = mark;
  }
  YAML::Mark start_;
  std::optional<YAML::Mark> content_;  // the document's first node that is not null
};

Result<Config> loadParsed(const YAML::Node& document, const std::vector<YAML::Mark>& later, std::string_view file,
                          const EnvLookup& env, std::vector<std::string>* warnings) {
  Diagnostics diagnostics;
  YamlReader reader(diagnostics, env);
  for (const YAML::Mark& mark : later) {
    // A second document would be ignored by everything below; a stray '---' must not hide half a config.
    diagnostics.error(Location{mark.line, mark.column}, "", "only one YAML document is allowed");
  }
  const Config config = readConfig(reader, document);
  addValidatorIssues(config, reader, diagnostics);
  if (warnings != nullptr) *warnings = diagnostics.renderWarnings(file);
  if (!diagnostics.empty()) return fail(Errc::ConfigInvalid, joinLines(diagnostics.render(file)));
  return config;
}

}  // namespace

Result<Config> loadConfigText(std::string_view text, std::string_view file, const EnvLookup& env,
                              std::vector<std::string>* warnings) {
  // yaml-cpp reports through exceptions; none may leave the config module (docs/architecture.md, "Errors").
  try {
    const std::string yaml(text);
    YAML::Node document;
    std::vector<YAML::Mark> later;
    try {
      const DocumentWalk walk(yaml);
      if (walk.stuck) {
        const Location at{walk.stuck->line, walk.stuck->column};
        return fail(Errc::ConfigInvalid, fmt::format("{}:{}:{}: not valid YAML here{}", file, at.line + 1,
                                                     at.column + 1, syntaxHint(text, at)));
      }
      later = walk.later;
      document = YAML::Load(yaml);  // the first document only: this parser call always returns
    } catch (const YAML::ParserException& e) {
      const Location at{e.mark.line, e.mark.column};
      if (!at.known()) return fail(Errc::ConfigInvalid, fmt::format("{}: {}", file, e.msg));
      return fail(Errc::ConfigInvalid,
                  fmt::format("{}:{}:{}: {}{}", file, at.line + 1, at.column + 1, e.msg, syntaxHint(text, at)));
    }
    return loadParsed(document, later, file, env, warnings);
  } catch (const std::exception& e) {
    return fail(Errc::ConfigInvalid, fmt::format("{}: {}", file, e.what()));
  }
}

}  // namespace fairlead::config

namespace fairlead {

Result<Config> loadConfigFile(const std::string& path, std::vector<std::string>* warnings) {
  auto text = config::readWholeFile(path);
  if (!text) {
    const int err = text.error();
    return fail(Errc::ConfigInvalid, fmt::format("{}: cannot read: {}", path, std::generic_category().message(err)),
                err);
  }
  return config::loadConfigText(*text, path, config::processEnvironment(), warnings);
}

Result<Config> loadConfigString(const std::string& yaml, const std::string& name,
                                std::vector<std::string>* warnings) {
  return config::loadConfigText(yaml, name, config::processEnvironment(), warnings);
}

}  // namespace fairlead
