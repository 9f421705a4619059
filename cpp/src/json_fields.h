// Typed reading of one JSON object of bundle.json, internal to the bundle reader: each failure
// is a Status naming the file and the dotted field path (the Python twin is
// python/egom2p_edge/bundle/schema.py), and nothing throws.
#pragma once

#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "egom2p/status.h"

namespace egom2p {
namespace internal {

class JsonFields {
 public:
  JsonFields(const nlohmann::json* obj, std::string path, std::string source)
      : obj_(obj), path_(std::move(path)), source_(std::move(source)) {}

  const std::string& path() const { return path_; }
  const std::string& source() const { return source_; }
  const nlohmann::json& json() const { return *obj_; }

  std::string Where(const std::string& key) const {
    return path_.empty() ? key : path_ + "." + key;
  }
  Status Fail(const std::string& key, const std::string& what) const {
    return Status(StatusCode::kFailedPrecondition,
                  source_ + ": field '" + Where(key) + "' " + what);
  }
  Status Fail(const std::string& key, const std::string& what, const nlohmann::json& found) const {
    return Fail(key, what + ", found " + found.dump());
  }

  // The raw value of `key`; null (and no error) for an absent optional key.
  Status Raw(const std::string& key, bool optional, const nlohmann::json** out) const {
    auto it = obj_->find(key);
    if (it == obj_->end()) {
      *out = nullptr;
      return optional ? Status::Ok() : Fail(key, "is missing");
    }
    *out = &*it;
    return Status::Ok();
  }

  Status Str(const std::string& key, std::string* out,
             const std::vector<std::string>& choices = {}) const {
    const nlohmann::json* v = nullptr;
    if (Status s = Raw(key, false, &v); !s.ok()) return s;
    if (!v->is_string()) return Fail(key, "must be a string", *v);
    *out = v->get<std::string>();
    if (!choices.empty()) {
      for (const auto& c : choices) {
        if (c == *out) return Status::Ok();
      }
      return Fail(key, "must be one of " + nlohmann::json(choices).dump(), *v);
    }
    return Status::Ok();
  }

  // A string or null; null gives an empty string.
  Status OptStr(const std::string& key, std::string* out) const {
    const nlohmann::json* v = nullptr;
    if (Status s = Raw(key, true, &v); !s.ok()) return s;
    if (v == nullptr || v->is_null()) {
      out->clear();
      return Status::Ok();
    }
    if (!v->is_string()) return Fail(key, "must be a string or null", *v);
    *out = v->get<std::string>();
    return Status::Ok();
  }

  Status Int(const std::string& key, int64_t minimum, int64_t* out) const {
    const nlohmann::json* v = nullptr;
    if (Status s = Raw(key, false, &v); !s.ok()) return s;
    if (!v->is_number_integer()) return Fail(key, "must be an integer", *v);
    *out = v->get<int64_t>();
    if (*out < minimum) return Fail(key, "must be >= " + std::to_string(minimum), *v);
    return Status::Ok();
  }

  Status Int(const std::string& key, int64_t minimum, int* out) const {
    int64_t v = 0;
    if (Status s = Int(key, minimum, &v); !s.ok()) return s;
    if (v > INT32_MAX) return Fail(key, "is too large", nlohmann::json(v));
    *out = static_cast<int>(v);
    return Status::Ok();
  }

  Status Float(const std::string& key, double minimum, double* out) const {
    const nlohmann::json* v = nullptr;
    if (Status s = Raw(key, false, &v); !s.ok()) return s;
    if (!v->is_number() || !std::isfinite(v->get<double>())) {
      return Fail(key, "must be a finite number", *v);
    }
    *out = v->get<double>();
    if (*out < minimum) return Fail(key, "must be >= " + nlohmann::json(minimum).dump(), *v);
    return Status::Ok();
  }

  Status Bool(const std::string& key, bool* out) const {
    const nlohmann::json* v = nullptr;
    if (Status s = Raw(key, false, &v); !s.ok()) return s;
    if (!v->is_boolean()) return Fail(key, "must be true or false", *v);
    *out = v->get<bool>();
    return Status::Ok();
  }

  Status List(const std::string& key, const nlohmann::json** out) const {
    if (Status s = Raw(key, false, out); !s.ok()) return s;
    if (!(*out)->is_array()) return Fail(key, "must be a list", **out);
    return Status::Ok();
  }

  Status Ints(const std::string& key, int64_t minimum, std::vector<int64_t>* out) const {
    const nlohmann::json* v = nullptr;
    if (Status s = List(key, &v); !s.ok()) return s;
    out->clear();
    for (const auto& item : *v) {
      if (!item.is_number_integer() || item.get<int64_t>() < minimum) {
        return Fail(key, "must be a list of integers >= " + std::to_string(minimum), *v);
      }
      out->push_back(item.get<int64_t>());
    }
    return Status::Ok();
  }

  Status Strs(const std::string& key, std::vector<std::string>* out) const {
    const nlohmann::json* v = nullptr;
    if (Status s = List(key, &v); !s.ok()) return s;
    out->clear();
    for (const auto& item : *v) {
      if (!item.is_string()) return Fail(key, "must be a list of strings", *v);
      out->push_back(item.get<std::string>());
    }
    return Status::Ok();
  }

  // The object at `key` (absent or null optional objects give found = false).
  Status Obj(const std::string& key, bool optional, JsonFields* out, bool* found) const {
    const nlohmann::json* v = nullptr;
    if (Status s = Raw(key, optional, &v); !s.ok()) return s;
    if (v == nullptr || (optional && v->is_null())) {
      if (found) *found = false;
      return Status::Ok();
    }
    if (!v->is_object()) return Fail(key, "must be an object", *v);
    *out = JsonFields(v, Where(key), source_);
    if (found) *found = true;
    return Status::Ok();
  }

  // Element `index` of the list at `key` as an object.
  Status Item(const std::string& key, size_t index, JsonFields* out) const {
    const nlohmann::json* v = nullptr;
    if (Status s = List(key, &v); !s.ok()) return s;
    const std::string where = Where(key) + "[" + std::to_string(index) + "]";
    if (!(*v)[index].is_object()) {
      return Status(
          StatusCode::kFailedPrecondition,
          source_ + ": field '" + where + "' must be an object, found " + (*v)[index].dump());
    }
    *out = JsonFields(&(*v)[index], where, source_);
    return Status::Ok();
  }

 private:
  const nlohmann::json* obj_;
  std::string path_;
  std::string source_;
};

}  // namespace internal
}  // namespace egom2p
