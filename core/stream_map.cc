#include "core/stream_map.h"

#include <algorithm>
#include <charconv>
#include <tuple>
#include <cstring>

#include "core/base64.h"
#include "core/merkle.h"

namespace custodian::streammap {
namespace {

constexpr uint8_t kLeafTag = 0x10, kInnerTag = 0x11, kRunningTag = 0x02;
constexpr size_t kLeafBytes = 1 + 32 + 8 + 8 + 32, kInnerBytes = 1 + 32 + 32;

void PutU64(std::string& out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>(v >> (8 * i)));
}
uint64_t GetU64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}
void PutHash(std::string& out, const Hash256& h) { out.append(reinterpret_cast<const char*>(h.data()), h.size()); }
Hash256 GetHash(const char* p) {
  Hash256 h;
  std::memcpy(h.data(), p, h.size());
  return h;
}

// Bit `depth` of the key, most significant first.
bool Bit(const Hash256& key, size_t depth) { return (key[depth / 8] >> (7 - depth % 8)) & 1; }

std::string LeafPreimage(const Hash256& key, const Summary& s) {
  std::string p;
  p.reserve(kLeafBytes);
  p.push_back(static_cast<char>(kLeafTag));
  PutHash(p, key);
  PutU64(p, s.count);
  PutU64(p, s.last_position);
  PutHash(p, s.running);
  return p;
}

std::string InnerPreimage(const Hash256& left, const Hash256& right) {
  std::string p;
  p.reserve(kInnerBytes);
  p.push_back(static_cast<char>(kInnerTag));
  PutHash(p, left);
  PutHash(p, right);
  return p;
}

struct Node {
  bool leaf = false;
  Hash256 a{}, b{};  // leaf: key, -; inner: left, right
  Summary summary;   // leaf
};

Result<Node> Load(NodeStore& nodes, const Hash256& hash) {
  Result<std::optional<std::string>> p = nodes.Get(hash);
  if (!p.ok()) return p.status();
  if (!*p) return Status::Corruption("stream map: node " + HexOf(hash) + " is missing from the store");
  const std::string& v = **p;
  Node n;
  if (v.size() == kLeafBytes && static_cast<uint8_t>(v[0]) == kLeafTag) {
    n.leaf = true;
    n.a = GetHash(v.data() + 1);
    n.summary.count = GetU64(v.data() + 33);
    n.summary.last_position = GetU64(v.data() + 41);
    n.summary.running = GetHash(v.data() + 49);
  } else if (v.size() == kInnerBytes && static_cast<uint8_t>(v[0]) == kInnerTag) {
    n.a = GetHash(v.data() + 1);
    n.b = GetHash(v.data() + 33);
  } else {
    return Status::Corruption("stream map: node " + HexOf(hash) + " is not a map node");
  }
  if (Sha256(v) != hash) return Status::Corruption("stream map: node " + HexOf(hash) + " does not hash to its key");
  return n;
}

Hash256 PutLeaf(NodeStore& nodes, const Change& c) {
  std::string p = LeafPreimage(c.key, c.summary);
  const Hash256 h = Sha256(p);
  nodes.Put(h, std::move(p));
  return h;
}

Hash256 PutInner(NodeStore& nodes, const Hash256& left, const Hash256& right) {
  std::string p = InnerPreimage(left, right);
  const Hash256 h = Sha256(p);
  nodes.Put(h, std::move(p));
  return h;
}

// The subtree at `depth` whose old hash is `node`, with `changes` (sorted by
// key, all on this subtree's path) applied.
Result<Hash256> Subtree(NodeStore& nodes, const Hash256& node, size_t depth, std::vector<Change> changes) {
  if (changes.empty()) return node;
  if (depth > 256) return Status::InvalidArgument("stream map: the same stream changed twice in one update");
  std::optional<Node> old;
  if (node != kEmpty) {
    Result<Node> n = Load(nodes, node);
    if (!n.ok()) return n.status();
    old = *n;
  }
  if (old && old->leaf) {
    // A single stream sat here: it joins the changes unless one replaces it.
    const Hash256 key = old->a;
    auto at = std::lower_bound(changes.begin(), changes.end(), key,
                               [](const Change& c, const Hash256& k) { return c.key < k; });
    if (at == changes.end() || at->key != key) changes.insert(at, Change{key, old->summary});
    old.reset();
  }
  if (!old && changes.size() == 1) return PutLeaf(nodes, changes[0]);
  auto split = std::partition_point(changes.begin(), changes.end(), [&](const Change& c) { return !Bit(c.key, depth); });
  std::vector<Change> right(std::make_move_iterator(split), std::make_move_iterator(changes.end()));
  changes.erase(split, changes.end());
  Result<Hash256> l = Subtree(nodes, old ? old->a : kEmpty, depth + 1, std::move(changes));
  if (!l.ok()) return l;
  Result<Hash256> r = Subtree(nodes, old ? old->b : kEmpty, depth + 1, std::move(right));
  if (!r.ok()) return r;
  return PutInner(nodes, *l, *r);
}

}  // namespace

Hash256 KeyOf(std::string_view stream) { return Sha256(stream); }

Hash256 NextRunning(const Hash256& running, const Hash256& leaf) {
  std::string p;
  p.reserve(65);
  p.push_back(static_cast<char>(kRunningTag));
  PutHash(p, running);
  PutHash(p, leaf);
  return Sha256(p);
}

void Add(Summary& s, uint64_t position, const Hash256& leaf) {
  ++s.count;
  s.last_position = position;
  s.running = NextRunning(s.running, leaf);
}

Hash256 LeafHash(const Hash256& key, const Summary& s) { return Sha256(LeafPreimage(key, s)); }
Hash256 InnerHash(const Hash256& left, const Hash256& right) { return Sha256(InnerPreimage(left, right)); }

Result<std::optional<std::string>> MemoryNodes::Get(const Hash256& hash) {
  auto it = nodes_.find(hash);
  if (it == nodes_.end()) return std::optional<std::string>();
  return std::optional<std::string>(it->second);
}

void MemoryNodes::Put(const Hash256& hash, std::string preimage) { nodes_.emplace(hash, std::move(preimage)); }

Result<Hash256> Update(NodeStore& nodes, const Hash256& root, std::vector<Change> changes) {
  std::sort(changes.begin(), changes.end(), [](const Change& a, const Change& b) { return a.key < b.key; });
  for (size_t i = 1; i < changes.size(); ++i) {
    if (changes[i].key == changes[i - 1].key) {
      return Status::InvalidArgument("stream map: the same stream changed twice in one update");
    }
  }
  return Subtree(nodes, root, 0, std::move(changes));
}

Result<Proof> Prove(NodeStore& nodes, const Hash256& root, std::string_view stream) {
  const Hash256 key = KeyOf(stream);
  Proof proof;
  Hash256 at = root;
  for (size_t depth = 0;; ++depth) {
    if (at == kEmpty) {
      proof.end = Proof::End::kEmpty;
      return proof;
    }
    Result<Node> n = Load(nodes, at);
    if (!n.ok()) return n.status();
    if (n->leaf) {
      proof.end = n->a == key ? Proof::End::kStream : Proof::End::kOther;
      proof.summary = n->summary;
      if (n->a != key) proof.other_key = n->a;
      return proof;
    }
    if (depth >= 256) return Status::Corruption("stream map: a path is deeper than 256 steps");
    const bool right = Bit(key, depth);
    proof.siblings.push_back(right ? n->a : n->b);
    at = right ? n->b : n->a;
  }
}

Result<Hash256> RootFromProof(std::string_view stream, const Proof& proof) {
  const Hash256 key = KeyOf(stream);
  const size_t depth = proof.siblings.size();
  if (depth > 256) return Status::InvalidArgument("the map proof has more than 256 steps");
  Hash256 h = kEmpty;
  switch (proof.end) {
    case Proof::End::kStream:
      h = LeafHash(key, proof.summary);
      break;
    case Proof::End::kEmpty:
      break;
    case Proof::End::kOther:
      if (proof.other_key == key) {
        return Status::InvalidArgument("the map proof ends at another stream's leaf that has this stream's key");
      }
      for (size_t i = 0; i < depth; ++i) {
        if (Bit(proof.other_key, i) != Bit(key, i)) {
          return Status::InvalidArgument("the map proof ends at a leaf whose key leaves the stream's path at step " +
                                         std::to_string(i));
        }
      }
      h = LeafHash(proof.other_key, proof.summary);
      break;
  }
  for (size_t i = depth; i-- > 0;) {
    h = Bit(key, i) ? InnerHash(proof.siblings[i], h) : InnerHash(h, proof.siblings[i]);
  }
  return h;
}

std::string MapNoteBody(const MapNote& n) {
  return std::string(kMapNoteHeader) + "\n" + n.origin + "\n" + std::to_string(n.size) + "\n" +
         Base64Encode(merkle::ToBytes(n.log_root)) + "\n" + Base64Encode(merkle::ToBytes(n.map_root)) + "\n";
}

Result<MapNote> ParseMapNote(std::string_view body) {
  std::vector<std::string_view> lines;
  while (!body.empty()) {
    const size_t nl = body.find('\n');
    if (nl == std::string_view::npos) return Status::InvalidArgument("a map note's text must end in a newline");
    lines.push_back(body.substr(0, nl));
    body.remove_prefix(nl + 1);
  }
  if (lines.size() != 5 || lines[0] != kMapNoteHeader) {
    return Status::InvalidArgument(std::string("not a stream map note (its first line must be ") + kMapNoteHeader +
                                   ", then origin, tree size, log root and map root)");
  }
  MapNote n;
  n.origin = std::string(lines[1]);
  if (n.origin.empty()) return Status::InvalidArgument("the map note has no origin");
  const auto [end, ec] = std::from_chars(lines[2].data(), lines[2].data() + lines[2].size(), n.size);
  if (lines[2].empty() || ec != std::errc() || end != lines[2].data() + lines[2].size() ||
      (lines[2].size() > 1 && lines[2][0] == '0')) {
    return Status::InvalidArgument("the map note's tree size is not a number: " + std::string(lines[2]));
  }
  for (auto [line, out, what] : {std::tuple{lines[3], &n.log_root, "log root"}, {lines[4], &n.map_root, "map root"}}) {
    Result<std::string> bytes = Base64Decode(line);
    if (!bytes.ok() || bytes->size() != 32) {
      return Status::InvalidArgument(std::string("the map note's ") + what + " is not a base64 SHA-256");
    }
    std::memcpy(out->data(), bytes->data(), 32);
  }
  return n;
}

}  // namespace custodian::streammap
