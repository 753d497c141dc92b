#include "cluster/jetstream.h"

#include <nats/nats.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <thread>

#include "core/sha256.h"
#include "storage/permissions.h"

namespace custodian::cluster {
namespace {

using Clock = std::chrono::steady_clock;

std::string Text(natsStatus s, jsErrCode jerr = static_cast<jsErrCode>(0)) {
  std::string out = natsStatus_GetText(s);
  if (const char* last = nats_GetLastError(nullptr); last != nullptr && *last != '\0') {
    out += std::string(": ") + last;
  }
  if (jerr != 0) out += " (JetStream error " + std::to_string(static_cast<int>(jerr)) + ")";
  return out;
}

// A server's URL for a message: any user and password in it replaced.
std::string Redacted(const std::string& url) {
  const size_t scheme = url.find("://");
  const size_t at = url.find('@');
  if (scheme == std::string::npos || at == std::string::npos || at < scheme) return url;
  return url.substr(0, scheme + 3) + "***@" + url.substr(at + 1);
}

// While a cluster forms or elects a leader: worth trying again.
bool Transient(natsStatus s, jsErrCode jerr) {
  return s == NATS_TIMEOUT || s == NATS_NO_RESPONDERS || s == NATS_CONNECTION_DISCONNECTED ||
         s == NATS_NOT_YET_CONNECTED || (s == NATS_ERR && (jerr == JSClusterNotAvailErr || jerr == JSClusterNoPeersErr));
}

// Whether nats.c's text of a failed TLS handshake says the server's
// certificate did not verify ("SSL handshake error: 20:unable to get local
// issuer certificate:...", "...: 62:hostname mismatch:...").
bool CertificateRefused(const std::string& text) {
  static constexpr std::string_view kMark = "handshake error: ";
  const size_t at = text.find(kMark);
  if (at == std::string::npos) return false;
  size_t i = at + kMark.size();
  const size_t digits = i;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
  return i > digits && i < text.size() && text[i] == ':';
}

// The node's credentials (JetStreamOptions::credentials_file) set on `opts`.
Status SignIn(natsOptions* opts, const std::string& file) {
  Result<std::string> read = ReadOwnerOnlyFile(file, "NATS credentials file");
  if (!read.ok()) return read.status();
  std::string text = std::move(*read);
  natsStatus s = NATS_OK;
  if (text.find("-----BEGIN NATS USER JWT-----") != std::string::npos) {
    s = natsOptions_SetUserCredentialsFromFiles(opts, file.c_str(), nullptr);
  } else {
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
    if (text.empty() || text.find('\n') != std::string::npos) {
      return Status::InvalidArgument("the NATS credentials file " + file +
                                     " holds neither a NATS credentials file (JWT and seed) nor one line, "
                                     "USER:PASSWORD or a token");
    }
    const size_t colon = text.find(':');
    if (colon == std::string::npos) {
      s = natsOptions_SetToken(opts, text.c_str());
    } else {
      s = natsOptions_SetUserInfo(opts, text.substr(0, colon).c_str(), text.substr(colon + 1).c_str());
    }
  }
  // The status only, never the text: it could echo the secret.
  if (s != NATS_OK) {
    return Status::InvalidArgument("the NATS credentials in " + file + " cannot be used (" + natsStatus_GetText(s) + ")");
  }
  return Status::Ok();
}

// One publish of `data` on `subject` with `headers`, waiting up to 2 s for
// the stream's acknowledgement.
struct Attempt {
  natsStatus status = NATS_OK;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  uint64_t sequence = 0;     // where the stream put it
  bool duplicate = false;    // the stream held a message with this id already (at `sequence`)
  std::string build_error;  // set when the message could not even be built
};
Attempt PublishOnce(jsCtx* js, const std::string& subject, std::string_view data,
                    std::initializer_list<std::pair<const char*, const char*>> headers) {
  Attempt a;
  natsMsg* m = nullptr;
  a.status = natsMsg_Create(&m, subject.c_str(), nullptr, data.data(), static_cast<int>(data.size()));
  for (const auto& [name, value] : headers) {
    if (a.status == NATS_OK) a.status = natsMsgHeader_Set(m, name, value);
  }
  if (a.status != NATS_OK) {
    if (m) natsMsg_Destroy(m);
    a.build_error = "cannot build the NATS message: " + Text(a.status);
    return a;
  }
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MaxWait = 2000;
  jsPubAck* ack = nullptr;
  a.status = js_PublishMsg(&ack, js, m, &po, &a.jerr);
  natsMsg_Destroy(m);
  if (ack) {
    a.sequence = ack->Sequence;
    a.duplicate = ack->Duplicate;
    jsPubAck_Destroy(ack);
  }
  return a;
}

// Whether message `seq` of `stream` holds exactly `data`; an error when it
// cannot be read.
Result<bool> StoredIs(jsCtx* js, const std::string& stream, uint64_t seq, std::string_view data) {
  natsMsg* there = nullptr;
  jsErrCode gerr = static_cast<jsErrCode>(0);
  natsStatus g = js_GetMsg(&there, js, stream.c_str(), seq, nullptr, &gerr);
  if (g != NATS_OK) return Status::Unavailable("cannot read message " + std::to_string(seq) + ": " + Text(g, gerr));
  const bool same = std::string_view(natsMsg_GetData(there), static_cast<size_t>(natsMsg_GetDataLength(there))) == data;
  natsMsg_Destroy(there);
  return same;
}

// Creates the stream `cfg` describes, or accepts it as it is when a stream of
// that name exists and `differs(existing)` finds nothing wrong with it;
// retries while the cluster forms, until `deadline`. `what` names the
// stream's use in the error.
Status EnsureStream(jsCtx* js, jsStreamConfig& cfg, Clock::time_point deadline, const std::string& what,
                    const std::function<std::string(const jsStreamConfig&)>& differs) {
  while (true) {
    jsErrCode jerr = static_cast<jsErrCode>(0);
    jsStreamInfo* si = nullptr;
    natsStatus s = js_AddStream(&si, js, &cfg, nullptr, &jerr);
    if (si) jsStreamInfo_Destroy(si);
    if (s == NATS_OK) return Status::Ok();
    if (s == NATS_ERR && jerr == JSStreamNameExistErr) {
      // There with other settings: fine when the ones that matter agree.
      jsStreamInfo* info = nullptr;
      s = js_GetStreamInfo(&info, js, cfg.Name, nullptr, &jerr);
      if (s == NATS_OK) {
        const std::string wrong = differs(*info->Config);
        jsStreamInfo_Destroy(info);
        if (!wrong.empty()) {
          return Status::Unsupported("the NATS stream " + std::string(cfg.Name) + " exists with settings " + what +
                                     " must not have:" + wrong + " see docs/scale-out.md");
        }
        return Status::Ok();
      }
    }
    if (!Transient(s, jerr) || Clock::now() > deadline) {
      return Status::Unavailable("cannot create the NATS stream " + std::string(cfg.Name) + " (R" +
                                 std::to_string(cfg.Replicas) + "): " + Text(s, jerr));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

}  // namespace

struct JetStream::Handles {
  natsOptions* opts = nullptr;
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  natsSubscription* appends = nullptr;  // the writer's, for forwarded appends
  natsSubscription* cosign = nullptr;   // every node's, for witnesses' requests
  ~Handles() {
    if (cosign) {
      natsSubscription_Unsubscribe(cosign);
      natsSubscription_Destroy(cosign);
    }
    if (appends) {
      natsSubscription_Unsubscribe(appends);
      natsSubscription_Destroy(appends);
    }
    if (js) jsCtx_Destroy(js);
    if (nc) {
      natsConnection_Close(nc);
      natsConnection_Destroy(nc);
    }
    if (opts) natsOptions_Destroy(opts);
  }
};

struct Follow::Sub {
  natsSubscription* sub = nullptr;
  ~Sub() {
    if (sub) {
      natsSubscription_Unsubscribe(sub);
      natsSubscription_Destroy(sub);
    }
  }
};

JetStream::JetStream(JetStreamOptions options)
    : options_(std::move(options)),
      subject_(options_.stream + ".rounds"),
      key_stream_(options_.stream + "_KEYS"),
      h_(std::make_unique<Handles>()) {}

// The data keys' share: one subject per data key, deletes allowed (an
// erasure erases its message), no limits.
Status JetStream::EnsureKeyStream(std::chrono::steady_clock::time_point deadline) {
  const std::string subject = options_.stream + ".keys.*";
  const char* subjects[] = {subject.c_str()};
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = key_stream_.c_str();
  cfg.Subjects = subjects;
  cfg.SubjectsLen = 1;
  cfg.Storage = js_FileStorage;
  cfg.Replicas = options_.replicas;
  cfg.DenyDelete = false;
  cfg.DenyPurge = true;
  cfg.Duplicates = 120LL * 1000 * 1000 * 1000;
  return EnsureStream(h_->js, cfg, deadline, "the key share", [&](const jsStreamConfig& c) {
    std::string differs;
    if (c.Replicas != options_.replicas) differs += " replicas " + std::to_string(c.Replicas) + ";";
    if (c.DenyDelete) differs += " deletes denied (an erasure could not remove a key);";
    if (c.MaxAge != 0 || c.MaxMsgs > 0 || c.MaxBytes > 0 || c.MaxMsgsPerSubject > 0) differs += " a limit;";
    return differs;
  });
}

std::string JetStream::KeySubject(const std::string& subject) const {
  return options_.stream + ".keys." + HexOf(Sha256(subject));
}

Status JetStream::PublishKey(const std::string& subject, std::string_view bytes, uint64_t after) {
  const std::string to = KeySubject(subject);
  const std::string expected = std::to_string(after);
  const std::string id = "k" + HexOf(Sha256(subject + '\0' + std::string(bytes) + '\0' + expected)).substr(0, 32);
  const auto deadline = Clock::now() + options_.publish_timeout;
  while (true) {
    const Attempt a = PublishOnce(
        h_->js, to, bytes, {{"Nats-Msg-Id", id.c_str()}, {"Nats-Expected-Last-Subject-Sequence", expected.c_str()}});
    if (!a.build_error.empty()) return Status::Unavailable(a.build_error);
    // Said without the subject: the answer may reach the appending client.
    const Status another = Status::Conflict("the cluster's key share holds another message for a person of this round");
    if (a.status == NATS_OK) {
      if (!a.duplicate) return Status::Ok();
      // Taken as a retry of a message with this id: ours only when it holds
      // these very bytes (an id can be guessed; someone may have used it first).
      Result<bool> same = StoredIs(h_->js, key_stream_, a.sequence, bytes);
      return same.ok() && *same ? Status::Ok() : another;
    }
    const natsStatus s = a.status;
    const jsErrCode jerr = a.jerr;
    if (s == NATS_ERR && jerr == JSStreamWrongLastSequenceErr) return another;
    if ((s == NATS_ERR && !Transient(s, jerr)) || Clock::now() > deadline) {
      return Status::Unavailable("the stream " + key_stream_ + " did not take a data key: " + Text(s, jerr));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

namespace {
// The last message on `subject` of `stream` (nullptr: none), retrying while the cluster answers nothing.
Result<natsMsg*> LastOn(jsCtx* js, const std::string& stream, const std::string& subject,
                        std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    natsMsg* m = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    natsStatus s = js_GetLastMsg(&m, js, stream.c_str(), subject.c_str(), nullptr, &jerr);
    if (s == NATS_OK) return m;
    if (s == NATS_NOT_FOUND || (s == NATS_ERR && jerr == JSNoMessageFoundErr)) return static_cast<natsMsg*>(nullptr);
    if ((s == NATS_ERR && !Transient(s, jerr)) || Clock::now() > deadline) {
      return Status::Unavailable("cannot read the stream " + stream + ": " + Text(s, jerr));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}
}  // namespace

Result<std::optional<StreamMessage>> JetStream::LastKeyMessage(const std::string& subject) {
  Result<natsMsg*> m = LastOn(h_->js, key_stream_, KeySubject(subject), options_.publish_timeout);
  if (!m.ok()) return m.status();
  if (*m == nullptr) return std::optional<StreamMessage>();
  StreamMessage last{natsMsg_GetSequence(*m),
                     std::string(natsMsg_GetData(*m), static_cast<size_t>(natsMsg_GetDataLength(*m)))};
  natsMsg_Destroy(*m);
  return std::optional<StreamMessage>(std::move(last));
}

Status JetStream::VisitKeyMessages(const std::string& subject, const std::function<bool(const StreamMessage&)>& visit) {
  // An ordered consumer of that subject alone, from its first message to the
  // last one there when it started (each message says how many follow it).
  const std::string on = KeySubject(subject);
  Result<std::optional<StreamMessage>> last = LastKeyMessage(subject);
  if (!last.ok()) return last.status();
  if (!*last) return Status::Ok();
  Result<std::unique_ptr<Follow>> follow = OrderedConsumer(key_stream_, on, 1);
  if (!follow.ok()) return follow.status();
  while (true) {
    uint64_t pending = 0;
    Result<std::optional<StreamMessage>> next = (*follow)->Next(options_.publish_timeout, &pending);
    if (!next.ok()) return next.status();
    // Nothing came: the subject's messages were erased meanwhile, or the servers do not answer.
    if (!*next) return Status::Unavailable("cannot read the stream " + key_stream_ + ": no answer");
    if (!visit(**next) || pending == 0 || (*next)->sequence >= (*last)->sequence) return Status::Ok();
  }
}

Status JetStream::EraseKey(const std::string& subject) {
  // Every message on the key's subject (a key shared twice has two),
  // overwritten by the servers, not only marked deleted.
  const std::string on = KeySubject(subject);
  const auto deadline = Clock::now() + options_.publish_timeout;
  while (true) {
    Result<natsMsg*> m = LastOn(h_->js, key_stream_, on, options_.publish_timeout);
    if (!m.ok()) return m.status();
    if (*m == nullptr) return Status::Ok();
    const uint64_t seq = natsMsg_GetSequence(*m);
    natsMsg_Destroy(*m);
    jsErrCode jerr = static_cast<jsErrCode>(0);
    natsStatus s = js_EraseMsg(h_->js, key_stream_.c_str(), seq, nullptr, &jerr);
    if (s == NATS_OK) continue;
    // Another node applying the same erasure may have erased it first
    // ("no message found", 10057): the next look says.
    const bool raced = s == NATS_ERR && (jerr == JSNoMessageFoundErr || jerr == JSStreamMsgDeleteFailed ||
                                          jerr == JSSequenceNotFoundErr);
    if ((!raced && !Transient(s, jerr)) || Clock::now() > deadline) {
      return Status::Unavailable("cannot erase a data key from the stream " + key_stream_ + ": " + Text(s, jerr));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(raced ? 5 : 100));
  }
}
JetStream::~JetStream() = default;

Result<std::unique_ptr<JetStream>> JetStream::Connect(const JetStreamOptions& options) {
  if (options.servers.empty()) return Status::InvalidArgument("no NATS server given (--cluster nats://HOST:PORT,...)");
  if (options.replicas < 1 || options.replicas > 5) {
    return Status::InvalidArgument("replicas: from 1 to 5, got " + std::to_string(options.replicas));
  }
  std::unique_ptr<JetStream> j(new JetStream(options));
  Handles& h = *j->h_;
  std::vector<const char*> servers;
  for (const std::string& s : options.servers) servers.push_back(s.c_str());
  natsStatus s = natsOptions_Create(&h.opts);
  if (s == NATS_OK) s = natsOptions_SetServers(h.opts, servers.data(), static_cast<int>(servers.size()));
  if (s == NATS_OK) s = natsOptions_SetName(h.opts, options.name.c_str());
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(h.opts, -1);  // a node rides out a server's restart
  if (s == NATS_OK) s = natsOptions_SetReconnectWait(h.opts, 250);
  if (s == NATS_OK) s = natsOptions_SetTimeout(h.opts, 2000);
  if (s != NATS_OK) return Status::InvalidArgument("NATS options: " + Text(s));
  if (!options.credentials_file.empty()) CUSTODIAN_RETURN_IF_ERROR(SignIn(h.opts, options.credentials_file));
  if (!options.ca_file.empty()) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(options.ca_file, ec)) {
      return Status::InvalidArgument("no CA file at " + options.ca_file + " (--cluster-ca: the PEM certificates of "
                                     "the CA that signed the NATS servers' certificates)");
    }
    s = natsOptions_SetSecure(h.opts, true);
    if (s == NATS_OK) s = natsOptions_LoadCATrustedCertificates(h.opts, options.ca_file.c_str());
    if (s != NATS_OK) {
      return Status::InvalidArgument("the CA file " + options.ca_file + " cannot be used: " + Text(s));
    }
  }

  const auto deadline = Clock::now() + options.connect_timeout;
  while (true) {
    s = natsConnection_Connect(&h.nc, h.opts);
    if (s == NATS_OK) break;
    // A server that asks for TLS when the node has no CA, or that does not
    // speak it when the node asks, or whose certificate no CA of the node's
    // signed: no use trying again.
    if (s == NATS_SECURE_CONNECTION_WANTED) {
      return Status::FailedPrecondition("the NATS servers (" + Redacted(options.servers.front()) +
                                        ", ...) do not speak TLS, which --cluster-ca " + options.ca_file +
                                        " asks for");
    }
    // A certificate that does not verify: nats.c then says "SSL handshake
    // error: <OpenSSL's verify code>:<reason>..." (other TLS failures, such as
    // a server restarting mid-handshake, are tried again).
    if (const std::string text = Text(s); s == NATS_SSL_ERROR && CertificateRefused(text)) {
      if (options.ca_file.empty()) {
        return Status::FailedPrecondition("the NATS servers (" + Redacted(options.servers.front()) +
                                          ", ...) speak TLS with a certificate this machine's CAs do not verify: "
                                          "give the CA that signed their certificates with --cluster-ca FILE (" +
                                          text + ")");
      }
      return Status::FailedPrecondition("the NATS servers' certificates (" + Redacted(options.servers.front()) +
                                        ", ...) do not verify: not signed by a CA in " + options.ca_file +
                                        " or this machine's, or not for the host the URL names (" + text + ")");
    }
    if (s == NATS_CONNECTION_AUTH_FAILED) {  // no use trying again
      return Status::FailedPrecondition(
          "the NATS servers (" + Redacted(options.servers.front()) + ", ...) refused this node: " + Text(s) +
          (options.credentials_file.empty() ? "; give the node's credentials with --cluster-credentials FILE"
                                            : "; check the credentials in " + options.credentials_file));
    }
    if (Clock::now() > deadline) {
      return Status::Unavailable("no NATS server of " + std::to_string(servers.size()) + " (" + Redacted(options.servers.front()) +
                                 ", ...) answered within " + std::to_string(options.connect_timeout.count() / 1000) +
                                 " s: " + Text(s));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = 2000;
  s = natsConnection_JetStream(&h.js, h.nc, &jo);
  if (s != NATS_OK) return Status::Unavailable("JetStream: " + Text(s));

  // The stream as the log of record needs it.
  const char* subjects[] = {j->subject_.c_str()};
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = options.stream.c_str();
  cfg.Subjects = subjects;
  cfg.SubjectsLen = 1;
  cfg.Storage = js_FileStorage;
  cfg.Replicas = options.replicas;
  cfg.DenyDelete = true;
  cfg.DenyPurge = true;
  cfg.MaxAge = 0;
  cfg.Duplicates = 120LL * 1000 * 1000 * 1000;  // two minutes: enough for a writer's retries
  CUSTODIAN_RETURN_IF_ERROR(EnsureStream(h.js, cfg, deadline, "a log of record", [&](const jsStreamConfig& c) {
    std::string differs;
    if (c.Replicas != options.replicas) differs += " replicas " + std::to_string(c.Replicas) + ";";
    if (!c.DenyDelete) differs += " deletes allowed;";
    if (!c.DenyPurge) differs += " purges allowed;";
    if (c.MaxAge != 0 || c.MaxMsgs > 0 || c.MaxBytes > 0) differs += " a size or age limit;";
    if (c.Storage != js_FileStorage) differs += " memory storage;";
    return differs;
  }));
  CUSTODIAN_RETURN_IF_ERROR(j->EnsureKeyStream(deadline));
  return j;
}

namespace {
void OnAppend(natsConnection* nc, natsSubscription*, natsMsg* msg, void* closure) {
  auto* handle = static_cast<JetStream::AppendHandler*>(closure);
  std::string request(natsMsg_GetData(msg), static_cast<size_t>(natsMsg_GetDataLength(msg)));
  const char* reply_to = natsMsg_GetReply(msg);
  std::string reply_subject = reply_to ? reply_to : "";
  natsMsg_Destroy(msg);
  if (reply_subject.empty()) return;  // nobody waits for an answer
  (*handle)(std::move(request), [nc, reply_subject](std::string reply) {
    (void)natsConnection_Publish(nc, reply_subject.c_str(), reply.data(), static_cast<int>(reply.size()));
  });
}
}  // namespace

Status JetStream::ServeAppends(AppendHandler handle) {
  if (h_->appends) return Status::FailedPrecondition("already serving appends");
  append_handler_ = std::move(handle);  // not while subscribed: NATS threads read it
  const std::string subject = options_.stream + ".append";
  natsStatus s = natsConnection_Subscribe(&h_->appends, h_->nc, subject.c_str(), OnAppend, &append_handler_);
  if (s != NATS_OK) {
    h_->appends = nullptr;
    return Status::Unavailable("cannot serve appends on " + subject + ": " + Text(s));
  }
  (void)natsSubscription_SetPendingLimits(h_->appends, 1 << 20, 1 << 30);
  return Status::Ok();
}

namespace {
void OnCosign(natsConnection* nc, natsSubscription*, natsMsg* msg, void* closure) {
  auto* handle = static_cast<JetStream::CosignHandler*>(closure);
  std::string note(natsMsg_GetData(msg), static_cast<size_t>(natsMsg_GetDataLength(msg)));
  const char* reply_to = natsMsg_GetReply(msg);
  std::string reply_subject = reply_to ? reply_to : "";
  natsMsg_Destroy(msg);
  if (reply_subject.empty()) return;
  std::optional<std::string> reply = (*handle)(std::move(note));
  if (reply) {
    (void)natsConnection_Publish(nc, reply_subject.c_str(), reply->data(), static_cast<int>(reply->size()));
  }
}
}  // namespace

Status JetStream::ServeCosign(CosignHandler handle) {
  if (h_->cosign) return Status::FailedPrecondition("already serving cosignatures");
  cosign_handler_ = std::move(handle);
  const std::string subject = options_.stream + ".cosign";
  natsStatus s = natsConnection_Subscribe(&h_->cosign, h_->nc, subject.c_str(), OnCosign, &cosign_handler_);
  if (s != NATS_OK) {
    h_->cosign = nullptr;
    return Status::Unavailable("cannot answer witnesses' requests on " + subject + ": " + Text(s));
  }
  return Status::Ok();
}

void JetStream::StopServingCosign() {
  if (!h_->cosign) return;
  // Drained: no answer is in progress once it returns, so the handler's
  // captures may go.
  if (natsSubscription_Drain(h_->cosign) == NATS_OK) (void)natsSubscription_WaitForDrainCompletion(h_->cosign, 5000);
  natsSubscription_Destroy(h_->cosign);
  h_->cosign = nullptr;
}

Result<std::vector<std::string>> JetStream::GatherCosignatures(std::string_view note, std::chrono::milliseconds window) {
  const std::string subject = options_.stream + ".cosign";
  natsInbox* inbox = nullptr;
  natsStatus s = natsInbox_Create(&inbox);
  if (s != NATS_OK) return Status::Unavailable("NATS inbox: " + Text(s));
  natsSubscription* sub = nullptr;
  s = natsConnection_SubscribeSync(&sub, h_->nc, inbox);
  if (s == NATS_OK) {
    s = natsConnection_PublishRequest(h_->nc, subject.c_str(), inbox, note.data(), static_cast<int>(note.size()));
  }
  std::vector<std::string> replies;
  const auto deadline = Clock::now() + window;
  while (s == NATS_OK) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) break;
    natsMsg* m = nullptr;
    natsStatus n = natsSubscription_NextMsg(&m, sub, left);
    if (n != NATS_OK) break;  // the window closed
    replies.emplace_back(natsMsg_GetData(m), static_cast<size_t>(natsMsg_GetDataLength(m)));
    natsMsg_Destroy(m);
  }
  if (sub) {
    natsSubscription_Unsubscribe(sub);
    natsSubscription_Destroy(sub);
  }
  natsInbox_Destroy(inbox);
  if (s != NATS_OK) return Status::Unavailable("cannot ask the witnesses on " + subject + ": " + Text(s));
  return replies;
}

void JetStream::StopServingAppends() {
  if (!h_->appends) return;
  // Drained, as the cosignatures: no handler runs once it returns, so what
  // the handler captured (the node) may go.
  if (natsSubscription_Drain(h_->appends) == NATS_OK) (void)natsSubscription_WaitForDrainCompletion(h_->appends, 5000);
  natsSubscription_Destroy(h_->appends);
  h_->appends = nullptr;
}

Result<std::string> JetStream::RequestAppend(std::string_view request, std::chrono::milliseconds timeout) {
  Result<std::pair<std::string, std::string>> r =
      RequestAppend([&request] { return std::string(request); }, timeout);
  if (!r.ok()) return r.status();
  return std::move(r->second);
}

Result<std::pair<std::string, std::string>> JetStream::RequestAppend(const std::function<std::string()>& make,
                                                                     std::chrono::milliseconds timeout) {
  const std::string subject = options_.stream + ".append";
  natsMsg* reply = nullptr;
  // Sent again while nobody answers (a server restarting, the writer
  // reconnecting): the writer recognises a repeated append by its event ids.
  const auto deadline = Clock::now() + timeout;
  natsStatus s;
  std::string request;
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    // Each try waits at most 5 s: a writer that died with the request never
    // answers it, and a retry reaches the next writer (the events' ids make
    // a repeated append harmless). Each try is a request of its own (a
    // fresh nonce: cluster/node.cc).
    request = make();
    s = natsConnection_Request(&reply, h_->nc, subject.c_str(), request.data(), static_cast<int>(request.size()),
                               std::clamp<int64_t>(left, 100, 5000));
    if (s == NATS_OK || Clock::now() > deadline ||
        (s != NATS_NO_RESPONDERS && s != NATS_TIMEOUT && s != NATS_CONNECTION_DISCONNECTED)) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (s != NATS_OK) {
    return Status::Unavailable(s == NATS_NO_RESPONDERS ? "no partition writer is running (docs/scale-out.md)"
                                                       : "the partition writer did not answer: " + Text(s));
  }
  std::string out(natsMsg_GetData(reply), static_cast<size_t>(natsMsg_GetDataLength(reply)));
  natsMsg_Destroy(reply);
  return std::make_pair(std::move(request), std::move(out));
}

int64_t JetStream::max_payload() const { return natsConnection_GetMaxPayload(h_->nc); }

Result<uint64_t> JetStream::LastSequence() {
  jsErrCode jerr = static_cast<jsErrCode>(0);
  jsStreamInfo* si = nullptr;
  natsStatus s = js_GetStreamInfo(&si, h_->js, options_.stream.c_str(), nullptr, &jerr);
  if (s != NATS_OK) return Status::Unavailable("stream info of " + options_.stream + ": " + Text(s, jerr));
  const uint64_t last = si->State.LastSeq;
  jsStreamInfo_Destroy(si);
  return last;
}

Result<std::string> JetStream::Leader() {
  jsErrCode jerr = static_cast<jsErrCode>(0);
  jsStreamInfo* si = nullptr;
  natsStatus s = js_GetStreamInfo(&si, h_->js, options_.stream.c_str(), nullptr, &jerr);
  if (s != NATS_OK) return Status::Unavailable("stream info of " + options_.stream + ": " + Text(s, jerr));
  std::string leader = si->Cluster && si->Cluster->Leader ? si->Cluster->Leader : "";
  jsStreamInfo_Destroy(si);
  return leader;
}

Result<uint64_t> JetStream::Publish(std::string_view data, uint64_t after, const std::string& id) {
  const auto deadline = Clock::now() + options_.publish_timeout;
  const std::string expected = std::to_string(after);
  bool maybe_sent = false;  // an attempt got no answer: the stream may hold it
  std::string last_problem;
  while (true) {
    // The expected sequence set by hand: the library leaves out 0 (an empty stream).
    const Attempt a = PublishOnce(h_->js, subject_, data,
                                  {{"Nats-Expected-Last-Sequence", expected.c_str()}, {"Nats-Msg-Id", id.c_str()}});
    if (!a.build_error.empty()) return Status::Unavailable(a.build_error);
    const natsStatus s = a.status;
    const jsErrCode jerr = a.jerr;
    if (s == NATS_OK) {
      const uint64_t seq = a.sequence;
      // Two publishes that expected the same sequence can both be taken on
      // nats-server 2.9.10 (nats-server#4320): ours landed behind another.
      if (seq != after + 1) {
        return Status::IoError("the stream " + options_.stream + " put the round at sequence " + std::to_string(seq) +
                               ", not " + std::to_string(after + 1) + ": another writer published meanwhile");
      }
      // A duplicate: the stream holds a message with this id. Ours, from an
      // attempt that got no answer, only when it holds these very bytes:
      // anyone who saw the id may have published something else under it.
      if (a.duplicate) {
        Result<bool> same = StoredIs(h_->js, options_.stream, seq, data);
        if (!same.ok()) return Status::IoError(same.status().message());
        if (!*same) {
          return Status::Unavailable("sequence " + std::to_string(seq) + " of the stream " + options_.stream +
                                     " holds another message under this round's id; this node must catch up first");
        }
      }
      return seq;
    }
    if (s == NATS_ERR && jerr == JSStreamWrongLastSequenceErr) {
      // Someone's message is at after+1. Ours, from an attempt that got no
      // answer (past the duplicate window), or another writer's?
      natsMsg* there = nullptr;
      jsErrCode gerr = static_cast<jsErrCode>(0);
      natsStatus g = js_GetMsg(&there, h_->js, options_.stream.c_str(), after + 1, nullptr, &gerr);
      if (g == NATS_OK) {
        // Ours: our id and our very bytes (an id alone anyone who saw it may reuse).
        const char* their_id = nullptr;
        const bool ours = natsMsgHeader_Get(there, "Nats-Msg-Id", &their_id) == NATS_OK && their_id != nullptr &&
                          id == their_id &&
                          std::string_view(natsMsg_GetData(there), static_cast<size_t>(natsMsg_GetDataLength(there))) ==
                              data;
        const std::string theirs = their_id ? their_id : "none";
        natsMsg_Destroy(there);
        if (ours) return after + 1;
        return Status::Unavailable("sequence " + std::to_string(after + 1) + " of the stream " + options_.stream +
                                   " holds another round (id " + theirs +
                                   "): another writer published it; this node must catch up first");
      }
      last_problem = "wrong last sequence, and the message after it cannot be read: " + Text(g, gerr);
    } else if (s == NATS_MAX_PAYLOAD || (s == NATS_ERR && !Transient(s, jerr))) {
      return Status::Unavailable("the stream " + options_.stream + " refused the round (" +
                                 std::to_string(data.size()) + " bytes): " + Text(s, jerr));
    } else {
      if (s != NATS_NO_RESPONDERS) maybe_sent = true;  // no responder: it reached no server
      last_problem = Text(s, jerr);
    }
    if (Clock::now() > deadline) {
      const std::string why = "no acknowledgement from the stream " + options_.stream + " within " +
                              std::to_string(options_.publish_timeout.count()) + " ms (" + last_problem + ")";
      if (maybe_sent) return Status::IoError(why);
      return Status::Unavailable(why);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

Result<std::unique_ptr<Follow>> JetStream::OrderedConsumer(const std::string& stream, const std::string& subject,
                                                           uint64_t from) {
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = stream.c_str();
  so.Ordered = true;
  so.Config.DeliverPolicy = js_DeliverByStartSequence;
  so.Config.OptStartSeq = from;
  auto sub = std::make_unique<Follow::Sub>();
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_SubscribeSync(&sub->sub, h_->js, subject.c_str(), nullptr, &so, &jerr);
  if (s != NATS_OK) {
    sub->sub = nullptr;
    return Status::Unavailable("cannot read the stream " + stream + " from " + std::to_string(from) + ": " +
                               Text(s, jerr));
  }
  return std::unique_ptr<Follow>(new Follow(std::move(sub)));
}

Result<std::unique_ptr<Follow>> JetStream::FollowFrom(uint64_t from) {
  if (from < 1) return Status::InvalidArgument("stream sequences start at 1");
  Result<std::unique_ptr<Follow>> follow = OrderedConsumer(options_.stream, subject_, from);
  if (!follow.ok()) return follow.status();
  // Rounds are up to a few MiB: let many wait rather than drop any.
  (void)natsSubscription_SetPendingLimits((*follow)->sub_->sub, 1 << 20, 1 << 30);
  return follow;
}

Follow::Follow(std::unique_ptr<Sub> sub) : sub_(std::move(sub)) {}
Follow::~Follow() = default;

Result<std::optional<StreamMessage>> Follow::Next(std::chrono::milliseconds timeout, uint64_t* pending) {
  natsMsg* m = nullptr;
  natsStatus s = natsSubscription_NextMsg(&m, sub_->sub, timeout.count());
  if (s == NATS_TIMEOUT) return std::optional<StreamMessage>();
  if (s != NATS_OK) return Status::Unavailable("following the stream: " + Text(s));
  jsMsgMetaData* md = nullptr;
  s = natsMsg_GetMetaData(&md, m);
  if (s != NATS_OK) {
    natsMsg_Destroy(m);
    return Status::Corruption("a stream message without its metadata: " + Text(s));
  }
  StreamMessage out;
  out.sequence = md->Sequence.Stream;
  if (pending != nullptr) *pending = md->NumPending;
  out.data.assign(natsMsg_GetData(m), static_cast<size_t>(natsMsg_GetDataLength(m)));
  jsMsgMetaData_Destroy(md);
  natsMsg_Destroy(m);
  return std::optional<StreamMessage>(std::move(out));
}

}  // namespace custodian::cluster
