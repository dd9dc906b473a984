// Something that collects events while lws runs and hands them to
// JavaScript once lws has returned (see EnvState::MarkPending).
#pragma once

namespace lwsnode {

class Deliverable {
 public:
  virtual ~Deliverable() = default;
  // Hands what was collected to JavaScript.
  virtual void Deliver() = 0;
  // The environment is shutting down: no JavaScript, no lws from now on.
  virtual void Detach() = 0;
};

}  // namespace lwsnode
