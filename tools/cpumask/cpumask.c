// cpumask: run a program as if its CPU lacked some vector extensions.
//
// Preloaded (LD_PRELOAD=libcpumask.so), it makes the CPUID instruction
// fault in every thread of the process (Linux's CPUID faulting,
// arch_prctl(ARCH_SET_CPUID, 0), which threads and forked children
// inherit), answers each faulting CPUID with the real processor's answer
// less the extensions of the chosen profile, and lets everything else run
// natively. ONNX Runtime then picks the kernels it would pick on a CPU
// without those extensions, on real hardware: the figure of an AVX2-only
// CPU with this CPU's clock and caches.
//
// Why each piece is here:
//   - The constructor of a preloaded library runs before the program's
//     main (before the Go runtime starts) and before any library the
//     program loads later (dlopen of ONNX Runtime), so every CPUID that
//     chooses a kernel is seen. CPUID run by the dynamic loader and libc
//     at start-up (glibc's string functions) is not: those stay native.
//   - SIGSEGV is what a faulting CPUID raises (a general-protection
//     fault). The Go runtime installs its own SIGSEGV handler and treats a
//     fault in Go code as a nil dereference (it forwards only faults in
//     C code), and golang.org/x/sys/cpu runs CPUID in Go code. So this
//     library keeps its handler first: it interposes sigaction (a cgo
//     program's runtime installs its handlers through libc's sigaction),
//     records the handler the program asks for as the one it forwards
//     every other SIGSEGV to, and reports that one back as installed.
//   - A CPUID is two bytes (0F A2); the handler runs the real instruction
//     (CPUID re-enabled for the moment, on the CPU the thread is on, so
//     per-core leaves stay right), masks it, writes EAX/EBX/ECX/EDX and
//     steps over it.
//
// CPUMASK=avx2 (the default): no AVX-512 of any kind, no AVX-VNNI,
// AVX-IFMA, AVX-NE-CONVERT or AVX-VNNI-INT8, no AMX, no AVX10 — AVX2, FMA
// and F16C stay (a Haswell … Zen 3 class CPU).
// CPUMASK=avxvnni: the same but AVX-VNNI stays (Alder Lake class).
// CPUMASK=avx512: AVX-512 F/CD/BW/DQ/VL stay, no VNNI of any kind, no
// BF16/FP16, no AMX (Skylake-SP class).
// CPUMASK=avx512vnni: everything but AMX and AVX10 (Ice Lake / Zen 4 class).
// CPUMASK=none: nothing masked (CPUID still emulated; a control).
// CPUMASK_VERBOSE=1: print the profile at start and every CPUID answered
// whose answer the mask changed, on standard error (a Go program leaves
// without running atexit handlers, so there is no count at exit).
#define _GNU_SOURCE
#include <asm/prctl.h>
#include <cpuid.h>
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#ifndef ARCH_GET_CPUID
#define ARCH_GET_CPUID 0x1011
#define ARCH_SET_CPUID 0x1012
#endif

// Bits to clear, per leaf and register.
struct mask {
	const char *name;
	uint32_t l1_ecx;                       // leaf 1 ECX
	uint32_t l7_ebx, l7_ecx, l7_edx;       // leaf 7 subleaf 0
	uint32_t l71_eax, l71_edx;             // leaf 7 subleaf 1
};

#define BIT(n) (1u << (n))

// Leaf 7.0 EBX: AVX512F 16, DQ 17, IFMA 21, PF 26, ER 27, CD 28, BW 30, VL 31.
#define L7_EBX_AVX512 (BIT(16) | BIT(17) | BIT(21) | BIT(26) | BIT(27) | BIT(28) | BIT(30) | BIT(31))
// Leaf 7.0 ECX: VBMI 1, VBMI2 6, VNNI 11, BITALG 12, VPOPCNTDQ 14.
#define L7_ECX_AVX512 (BIT(1) | BIT(6) | BIT(11) | BIT(12) | BIT(14))
#define L7_ECX_AVX512VNNI BIT(11)
// Leaf 7.0 EDX: 4VNNIW 2, 4FMAPS 3, VP2INTERSECT 8, AMX-BF16 22,
// AVX512-FP16 23, AMX-TILE 24, AMX-INT8 25.
#define L7_EDX_AVX512 (BIT(2) | BIT(3) | BIT(8) | BIT(23))
#define L7_EDX_AMX (BIT(22) | BIT(24) | BIT(25))
// Leaf 7.1 EAX: AVX-VNNI 4, AVX512-BF16 5, AMX-FP16 21, AVX-IFMA 23.
#define L71_EAX_AVXVNNI BIT(4)
#define L71_EAX_AVX512BF16 BIT(5)
#define L71_EAX_AMX BIT(21)
#define L71_EAX_AVXIFMA BIT(23)
// Leaf 7.1 EDX: AVX-VNNI-INT8 4, AVX-NE-CONVERT 5, AVX10 19, AMX-COMPLEX 8.
#define L71_EDX_AVXVNNIINT8 BIT(4)
#define L71_EDX_AVXNECONVERT BIT(5)
#define L71_EDX_AVX10 BIT(19)
#define L71_EDX_AMX BIT(8)

static const struct mask profiles[] = {
	{"avx2", 0, L7_EBX_AVX512, L7_ECX_AVX512, L7_EDX_AVX512 | L7_EDX_AMX,
	 L71_EAX_AVXVNNI | L71_EAX_AVX512BF16 | L71_EAX_AMX | L71_EAX_AVXIFMA,
	 L71_EDX_AVXVNNIINT8 | L71_EDX_AVXNECONVERT | L71_EDX_AVX10 | L71_EDX_AMX},
	{"avxvnni", 0, L7_EBX_AVX512, L7_ECX_AVX512, L7_EDX_AVX512 | L7_EDX_AMX,
	 L71_EAX_AVX512BF16 | L71_EAX_AMX | L71_EAX_AVXIFMA,
	 L71_EDX_AVXVNNIINT8 | L71_EDX_AVXNECONVERT | L71_EDX_AVX10 | L71_EDX_AMX},
	{"avx512", 0, BIT(21) | BIT(26) | BIT(27), L7_ECX_AVX512, L7_EDX_AVX512 | L7_EDX_AMX,
	 L71_EAX_AVXVNNI | L71_EAX_AVX512BF16 | L71_EAX_AMX | L71_EAX_AVXIFMA,
	 L71_EDX_AVXVNNIINT8 | L71_EDX_AVXNECONVERT | L71_EDX_AVX10 | L71_EDX_AMX},
	{"avx512vnni", 0, 0, 0, L7_EDX_AMX, L71_EAX_AMX, L71_EDX_AVX10 | L71_EDX_AMX},
	{"none", 0, 0, 0, 0, 0, 0},
};

static const struct mask *active;
static struct sigaction program_segv; // what the program asked for; forwarded to
static int verbose;
static int (*real_sigaction)(int, const struct sigaction *, struct sigaction *);

static long set_cpuid(int enabled) {
	return syscall(SYS_arch_prctl, ARCH_SET_CPUID, (unsigned long)enabled);
}

// hex writes v as 8 hex digits at p; the signal handler cannot use stdio.
static char *hex(char *p, uint32_t v) {
	for (int i = 7; i >= 0; i--) {
		*p++ = "0123456789abcdef"[(v >> (4 * i)) & 15];
	}
	return p;
}

static char *text(char *p, const char *s) {
	while (*s) {
		*p++ = *s++;
	}
	return p;
}

static void say_masked(uint32_t leaf, uint32_t sub, uint32_t a0, uint32_t b0, uint32_t c0, uint32_t d0,
                       uint32_t a, uint32_t b, uint32_t c, uint32_t d) {
	char buf[160], *p = buf;
	int saved = errno;
	p = text(p, "cpumask: cpuid ");
	p = hex(p, leaf);
	p = text(p, ".");
	p = hex(p, sub);
	const uint32_t was[4] = {a0, b0, c0, d0}, now[4] = {a, b, c, d};
	const char *reg[4] = {" eax ", " ebx ", " ecx ", " edx "};
	for (int i = 0; i < 4; i++) {
		if (was[i] != now[i]) {
			p = text(p, reg[i]);
			p = hex(p, was[i]);
			p = text(p, "->");
			p = hex(p, now[i]);
		}
	}
	*p++ = '\n';
	ssize_t n = write(2, buf, p - buf);
	(void)n;
	errno = saved;
}

static void forward(int sig, siginfo_t *info, void *uc) {
	struct sigaction *p = &program_segv;
	if (p->sa_flags & SA_SIGINFO) {
		if (p->sa_sigaction) {
			p->sa_sigaction(sig, info, uc);
			return;
		}
	} else if (p->sa_handler != SIG_DFL && p->sa_handler != SIG_IGN) {
		p->sa_handler(sig);
		return;
	}
	// The program handles SIGSEGV by default: die of it, as it would have.
	struct sigaction dfl;
	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	real_sigaction(SIGSEGV, &dfl, NULL);
	// Returning re-runs the faulting instruction, which now kills.
}

static void on_segv(int sig, siginfo_t *info, void *ucv) {
	ucontext_t *uc = ucv;
	greg_t *r = uc->uc_mcontext.gregs;
	const unsigned char *ip = (const unsigned char *)r[REG_RIP];
	if (info->si_code != SI_KERNEL || ip == NULL || ip[0] != 0x0f || ip[1] != 0xa2) {
		forward(sig, info, ucv);
		return;
	}
	int saved = errno;
	uint32_t leaf = (uint32_t)r[REG_RAX], sub = (uint32_t)r[REG_RCX];
	uint32_t a, b, c, d;
	set_cpuid(1);
	__cpuid_count(leaf, sub, a, b, c, d);
	set_cpuid(0);
	uint32_t a0 = a, b0 = b, c0 = c, d0 = d;
	errno = saved;
	const struct mask *m = active;
	if (leaf == 1) {
		c &= ~m->l1_ecx;
	} else if (leaf == 7 && sub == 0) {
		b &= ~m->l7_ebx;
		c &= ~m->l7_ecx;
		d &= ~m->l7_edx;
	} else if (leaf == 7 && sub == 1) {
		a &= ~m->l71_eax;
		d &= ~m->l71_edx;
	} else if (leaf == 0x24 && (m->l71_edx & L71_EDX_AVX10)) {
		a = b = c = d = 0; // AVX10 converged vector ISA leaf
	}
	// CPUID writes the 32-bit registers, clearing their upper halves.
	r[REG_RAX] = a;
	r[REG_RBX] = b;
	r[REG_RCX] = c;
	r[REG_RDX] = d;
	r[REG_RIP] += 2;
	if (verbose && (a != a0 || b != b0 || c != c0 || d != d0)) {
		say_masked(leaf, sub, a0, b0, c0, d0, a, b, c, d);
	}
}

// sigaction keeps on_segv first for SIGSEGV: the program's handler is
// recorded (and reported back) and called for every SIGSEGV that is not
// a CPUID. Every other signal goes straight to libc.
int sigaction(int sig, const struct sigaction *act, struct sigaction *old) {
	if (!real_sigaction) {
		real_sigaction = dlsym(RTLD_NEXT, "sigaction");
	}
	if (sig != SIGSEGV || !active) {
		return real_sigaction(sig, act, old);
	}
	if (old) {
		*old = program_segv;
	}
	if (act) {
		program_segv = *act;
		// Run on the program's signal stack with its mask, as its own
		// handler would: the Go runtime insists on SA_ONSTACK.
		struct sigaction ours = *act;
		ours.sa_sigaction = on_segv;
		ours.sa_flags = (act->sa_flags | SA_SIGINFO | SA_ONSTACK) & ~SA_RESETHAND;
		return real_sigaction(SIGSEGV, &ours, NULL);
	}
	return 0;
}


// signal is glibc's BSD signal (SA_RESTART), through the sigaction above:
// glibc's own calls its internal sigaction, which would replace on_segv.
sighandler_t signal(int sig, sighandler_t handler) {
	struct sigaction act, old;
	memset(&act, 0, sizeof act);
	act.sa_handler = handler;
	act.sa_flags = SA_RESTART;
	sigemptyset(&act.sa_mask);
	sigaddset(&act.sa_mask, sig);
	if (sigaction(sig, &act, &old) != 0) {
		return SIG_ERR;
	}
	return old.sa_handler;
}

__attribute__((constructor)) static void cpumask_init(void) {
	real_sigaction = dlsym(RTLD_NEXT, "sigaction");
	const char *want = getenv("CPUMASK");
	if (!want || !*want) {
		want = "avx2";
	}
	const struct mask *m = NULL;
	for (size_t i = 0; i < sizeof profiles / sizeof profiles[0]; i++) {
		if (strcmp(profiles[i].name, want) == 0) {
			m = &profiles[i];
		}
	}
	if (!m) {
		fprintf(stderr, "cpumask: unknown CPUMASK=%s (avx2, avxvnni, avx512, avx512vnni, none)\n", want);
		_exit(2);
	}
	const char *v = getenv("CPUMASK_VERBOSE");
	verbose = v && *v && strcmp(v, "0") != 0;

	// Our handler first, with the inherited one as what to forward to.
	struct sigaction ours;
	memset(&ours, 0, sizeof ours);
	ours.sa_sigaction = on_segv;
	ours.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
	sigfillset(&ours.sa_mask);
	if (real_sigaction(SIGSEGV, &ours, &program_segv) != 0) {
		perror("cpumask: sigaction SIGSEGV");
		_exit(2);
	}
	active = m;
	// A measurement that silently ran unmasked would be worse than none.
	if (set_cpuid(0) != 0) {
		fprintf(stderr, "cpumask: CPUID faulting is not available here (arch_prctl ARCH_SET_CPUID: %s); nothing can be masked\n",
		        strerror(errno));
		_exit(2);
	}
	if (verbose) {
		fprintf(stderr, "cpumask: profile %s\n", m->name);
	}
}
