#pragma once
// Everything one run of a model mutates, kept apart from the model so that a loaded model stays
// immutable and can be shared: the threads the run uses, its stage timings, what it was asked to
// record, and the model's own workspaces and caches (made by the model on first use).
//
// One session serves one caller at a time; any number of sessions may run one model at once.
#include <atomic>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include <xtensor/xtensor.hpp>

#include "vitscope/core/stage_profile.hpp"
#include "vitscope/core/thread_pool.hpp"

namespace vitscope {

// What a forward pass recorded, when its options asked for it (cleared by the next pass that records).
struct Recording {
  // ViT, per block: the attention weights the block used (softmax probabilities, or the ReLU
  // weights): [batch, heads, tokens, tokens].
  std::vector<xt::xtensor<float, 4>> attention;
  // ViT: the token activations [batch, tokens, width]; [0] the embedded tokens (patch embedding,
  // prefix tokens, positional embedding), [l + 1] the residual stream after block l.
  std::vector<xt::xtensor<float, 3>> tokens;
  // CNN: the feature map its head pools, [batch, height, width, channels] (NHWC).
  xt::xtensor<float, 4> features;
};

// A model's private per-session state (workspaces, caches); each model defines its own.
class SessionState {
 public:
  virtual ~SessionState() = default;
};

class Session {
 public:
  // pool: the threads this session's runs use (null: the calling thread only). A pool may be
  // shared by sessions: runs from several threads take turns on it.
  explicit Session(ThreadPool* pool = nullptr) : pool_(pool) {}
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  Session(Session&&) = default;
  Session& operator=(Session&&) = default;

  ThreadPool* pool() const { return pool_; }
  int threads() const { return pool_ ? pool_->size() : 1; }

  // Times every stage of the following forward passes into profile (null: stop timing).
  void set_profile(StageProfile* profile) { profile_ = profile; }
  StageProfile* profile() const { return profile_; }

  Recording& recording() { return recording_; }
  const Recording& recording() const { return recording_; }

  // A key no other model of this process has (from new_owner_key()), for state_for.
  static std::uint64_t new_owner_key() {
    static std::atomic<std::uint64_t> next{1};
    return next++;
  }

  // The state the model with key `owner` keeps in this session, made on first use. A session may
  // serve several models (a ViT and a CNN side by side); each keeps its own state.
  template <class State>
  State& state_for(std::uint64_t owner) {
    for (auto& [key, state] : states_)
      if (key == owner) {
        if (auto* typed = dynamic_cast<State*>(state.get())) return *typed;
        state = std::make_unique<State>();
        return static_cast<State&>(*state);
      }
    states_.emplace_back(owner, std::make_unique<State>());
    return static_cast<State&>(*states_.back().second);
  }

 private:
  ThreadPool* pool_ = nullptr;
  StageProfile* profile_ = nullptr;
  Recording recording_;
  std::vector<std::pair<std::uint64_t, std::unique_ptr<SessionState>>> states_;
};

}  // namespace vitscope
