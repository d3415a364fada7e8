// The seccomp layer: a raw-BPF filter (linux/filter.h, linux/seccomp.h; no libseccomp) that
// refuses what no model runtime needs and an attacker would reach for, and allows the rest, so
// that LibTorch, oneDNN (JIT: mprotect to executable), OpenMP and Python run unchanged:
//   - another architecture (i386 through int 0x80, x32) kills the process: the numbers below
//     would mean other calls there;
//   - refused with EPERM: ptrace, process_vm_readv/writev, process_madvise, pidfd_getfd, kcmp;
//     the mount family (mount, umount2, pivot_root, chroot, open_tree, move_mount, fsopen,
//     fsconfig, fsmount, fspick, mount_setattr); keyctl, add_key, request_key; bpf,
//     perf_event_open, userfaultfd; kexec_load, kexec_file_load, init_module, finit_module,
//     delete_module; setns; io_uring_* (its operations would bypass this filter); acct,
//     swapon/off, reboot, quotactl, syslog, uselib, vhangup, name_to_handle_at,
//     open_by_handle_at, fanotify_init, iopl, ioperm, modify_ldt, the clock setters,
//     sethostname, setdomainname; chmod, chown and the xattr setters (file metadata, which
//     Landlock does not govern: a plugin with the agent's uid could change the bundle's);
//   - unshare and clone with any CLONE_NEW* flag: EPERM (no new namespaces, user ones
//     included); clone3 (whose flags live in memory a filter cannot read): ENOSYS, so that
//     glibc falls back to clone, which is checked;
//   - socket and socketpair of any family but AF_UNIX: EPERM;
//   - ioctl TIOCSTI and TIOCLINUX (typing into a terminal): EPERM;
//   - personality other than the default or a query: EPERM.
// Installed last but for the PID layer's fork, with PR_SET_SECCOMP (prctl, which systemd's
// @system-service allows, unlike seccomp(2)); no_new_privs first.
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <cerrno>
#include <initializer_list>

#include "agent/sandbox/layer.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
// Calls newer than the kernel headers we build with; the same numbers on x86_64 and arm64.
#if defined(__x86_64__) || defined(__aarch64__)
#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif
#ifndef SYS_setxattrat
#define SYS_setxattrat 463
#define SYS_removexattrat 466
#endif
#ifndef SYS_open_tree_attr
#define SYS_open_tree_attr 467
#endif
#endif

namespace bg::sandbox::internal {
namespace {

#if defined(__x86_64__)
constexpr std::uint32_t kArch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
constexpr std::uint32_t kArch = AUDIT_ARCH_AARCH64;
#else
constexpr std::uint32_t kArch = 0;  // unsupported: the layer is unavailable
#endif

constexpr std::uint32_t kNamespaceFlags = CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS |
                                          CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID |
                                          CLONE_NEWNET | CLONE_NEWTIME;
constexpr std::uint32_t kAllow = SECCOMP_RET_ALLOW;
constexpr std::uint32_t kKill = SECCOMP_RET_KILL_PROCESS;
constexpr std::uint32_t Errno(int err) {
  return SECCOMP_RET_ERRNO | (static_cast<std::uint32_t>(err) & SECCOMP_RET_DATA);
}

// The low 32 bits of argument `i` (little-endian: at the start of the 64-bit slot).
constexpr std::uint32_t ArgLow(int i) {
  return static_cast<std::uint32_t>(offsetof(seccomp_data, args) + 8 * i);
}

const int kDenied[] = {
    SYS_ptrace, SYS_process_vm_readv, SYS_process_vm_writev, SYS_kcmp,
#ifdef SYS_process_madvise
    SYS_process_madvise,
#endif
#ifdef SYS_pidfd_getfd
    SYS_pidfd_getfd,
#endif
    SYS_mount, SYS_umount2, SYS_pivot_root, SYS_chroot,
#ifdef SYS_open_tree
    SYS_open_tree, SYS_move_mount, SYS_fsopen, SYS_fsconfig, SYS_fsmount, SYS_fspick,
#endif
#ifdef SYS_mount_setattr
    SYS_mount_setattr,
#endif
#ifdef SYS_open_tree_attr
    SYS_open_tree_attr,
#endif
    // Metadata that Landlock does not govern: a file's mode, owner and extended attributes (a
    // plugin sharing the agent's uid could otherwise chmod the bundle snapshot).
    SYS_fchmod, SYS_fchmodat, SYS_fchown, SYS_fchownat, SYS_setxattr, SYS_lsetxattr,
    SYS_fsetxattr, SYS_removexattr, SYS_lremovexattr, SYS_fremovexattr,
#ifdef SYS_fchmodat2
    SYS_fchmodat2, SYS_setxattrat, SYS_removexattrat,
#endif
#if defined(__x86_64__)
    SYS_chmod, SYS_chown, SYS_lchown,
#endif
    SYS_keyctl, SYS_add_key, SYS_request_key, SYS_bpf, SYS_perf_event_open, SYS_userfaultfd,
    SYS_kexec_load,
#ifdef SYS_kexec_file_load
    SYS_kexec_file_load,
#endif
    SYS_init_module, SYS_finit_module, SYS_delete_module, SYS_setns,
#ifdef SYS_io_uring_setup
    SYS_io_uring_setup, SYS_io_uring_enter, SYS_io_uring_register,
#endif
    SYS_acct, SYS_swapon, SYS_swapoff, SYS_reboot, SYS_quotactl, SYS_syslog, SYS_vhangup,
    SYS_name_to_handle_at, SYS_open_by_handle_at, SYS_fanotify_init, SYS_settimeofday,
    SYS_clock_settime, SYS_clock_adjtime, SYS_adjtimex, SYS_sethostname, SYS_setdomainname,
#ifdef SYS_quotactl_fd
    SYS_quotactl_fd,
#endif
#if defined(__x86_64__)
    SYS_uselib, SYS_iopl, SYS_ioperm, SYS_modify_ldt,
#endif
};

class Program {
 public:
  void Stmt(std::uint16_t code, std::uint32_t k) { f_.push_back(BPF_STMT(code, k)); }
  void Jump(std::uint16_t code, std::uint32_t k, std::uint8_t jt, std::uint8_t jf) {
    f_.push_back(BPF_JUMP(code, k, jt, jf));
  }
  void Return(std::uint32_t action) { Stmt(BPF_RET | BPF_K, action); }
  void LoadNr() { Stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)); }
  // if (nr == `nr`) return `action`;
  void Deny(int nr, std::uint32_t action) {
    Jump(BPF_JMP | BPF_JEQ | BPF_K, static_cast<std::uint32_t>(nr), 0, 1);
    Return(action);
  }
  // if (nr == `nr`) { if (arg_low(arg) & mask) return EPERM; return ALLOW; }
  void DenyFlags(int nr, int arg, std::uint32_t mask) {
    Jump(BPF_JMP | BPF_JEQ | BPF_K, static_cast<std::uint32_t>(nr), 0, 4);
    Stmt(BPF_LD | BPF_W | BPF_ABS, ArgLow(arg));
    Jump(BPF_JMP | BPF_JSET | BPF_K, mask, 0, 1);
    Return(Errno(EPERM));
    Return(kAllow);
  }
  // if (nr == `nr`) { if (arg_low(arg) is one of `allowed`) return ALLOW; return EPERM; }
  void AllowValues(int nr, int arg, std::initializer_list<std::uint32_t> allowed) {
    const auto n = static_cast<std::uint8_t>(allowed.size());
    Jump(BPF_JMP | BPF_JEQ | BPF_K, static_cast<std::uint32_t>(nr), 0,
         static_cast<std::uint8_t>(n + 3));
    Stmt(BPF_LD | BPF_W | BPF_ABS, ArgLow(arg));
    std::uint8_t left = n;
    for (std::uint32_t value : allowed) {
      Jump(BPF_JMP | BPF_JEQ | BPF_K, value, left, 0);  // to the ALLOW below
      --left;
    }
    Return(Errno(EPERM));
    Return(kAllow);
  }
  // if (nr == `nr`) { if (arg_low(arg) is one of `denied`) return EPERM; return ALLOW; }
  void DenyValues(int nr, int arg, std::initializer_list<std::uint32_t> denied) {
    const auto n = static_cast<std::uint8_t>(denied.size());
    Jump(BPF_JMP | BPF_JEQ | BPF_K, static_cast<std::uint32_t>(nr), 0,
         static_cast<std::uint8_t>(n + 3));
    Stmt(BPF_LD | BPF_W | BPF_ABS, ArgLow(arg));
    std::uint8_t left = n;
    for (std::uint32_t value : denied) {
      Jump(BPF_JMP | BPF_JEQ | BPF_K, value, static_cast<std::uint8_t>(left), 0);  // to EPERM
      --left;
    }
    Return(kAllow);
    Return(Errno(EPERM));
  }
  std::vector<sock_filter> Take() { return std::move(f_); }

 private:
  std::vector<sock_filter> f_;
};

std::vector<sock_filter> BuildFilter() {
  Program p;
  p.Stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch));
  p.Jump(BPF_JMP | BPF_JEQ | BPF_K, kArch, 1, 0);
  p.Return(kKill);
  p.LoadNr();
#if defined(__x86_64__)
  p.Jump(BPF_JMP | BPF_JGE | BPF_K, 0x40000000u, 0, 1);  // __X32_SYSCALL_BIT
  p.Return(kKill);
#endif
  for (int nr : kDenied) p.Deny(nr, Errno(EPERM));
  p.Deny(SYS_clone3, Errno(ENOSYS));
  // Each block below ends in a return or falls through with nr still in the accumulator only
  // when its syscall did not match, so they chain.
  p.DenyFlags(SYS_clone, 0, kNamespaceFlags);
  p.DenyFlags(SYS_unshare, 0, kNamespaceFlags);
  p.AllowValues(SYS_socket, 0, {AF_UNIX});
  p.AllowValues(SYS_socketpair, 0, {AF_UNIX});
  p.DenyValues(SYS_ioctl, 1, {TIOCSTI, TIOCLINUX});
  p.AllowValues(SYS_personality, 0, {0u, 0xffffffffu});
  p.Return(kAllow);
  return p.Take();
}

void Prepare(Prepared& p) {
  if (kArch == 0) {
    p.unavailable[static_cast<int>(Layer::kSeccomp)] = "no filter for this architecture";
    return;
  }
  p.seccomp = BuildFilter();
}

enum Step : std::int32_t { kStepNoNewPrivs = 1, kStepInstall };

void Apply(const Prepared& p, Report& r) {
  LayerResult& res = r.of(Layer::kSeccomp);
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    MarkFailed(res, kStepNoNewPrivs, errno);
    return;
  }
  sock_fprog prog{};
  prog.len = static_cast<unsigned short>(p.seccomp.size());
  prog.filter = const_cast<sock_filter*>(p.seccomp.data());
  if (::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) != 0) {
    MarkFailed(res, kStepInstall, errno);
    return;
  }
  MarkApplied(res);
}

void Describe(const Prepared& p, const Report& r, LayerOutcome& out) {
  const LayerResult& res = r.of(Layer::kSeccomp);
  out.facts.emplace_back("instructions", std::to_string(p.seccomp.size()));
  if (res.state == LayerState::kApplied) return;
  out.why = std::string(res.step == kStepNoNewPrivs ? "PR_SET_NO_NEW_PRIVS" : "PR_SET_SECCOMP") +
            ": " + ErrnoName(res.err);
}

}  // namespace

const LayerOps kSeccompLayer = {Layer::kSeccomp, Prepare, nullptr, Apply, Describe};

}  // namespace bg::sandbox::internal
