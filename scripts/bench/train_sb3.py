#!/usr/bin/env python3
"""Time Stable-Baselines3 PPO training on the vancomycin environment.

For each --envs count, trains PPO on a DummyVecEnv of that many
single-patient environments for --total-timesteps steps. Prints one JSON
report on stdout: environment steps per second of `model.learn` (PPO
updates included), its split into rollout collection and updates, the
environment's own steps per second, and the peak resident memory.
"""

import argparse
import json
import platform
import resource
import sys
import time

from thread_limits import limit_threads, limit_torch_threads

# PPO hyperparameters shared with Titrate's PPO benchmark. The others are
# SB3 defaults, copied from the trained model into the report.
N_STEPS = 2048
BATCH_SIZE = 64
N_EPOCHS = 10
LEARNING_RATE = 3e-4
GAMMA = 0.99
GAE_LAMBDA = 0.95
CLIP_RANGE = 0.2
HIDDEN_SIZES = [64, 64]
ENVIRONMENT_ONLY_STEPS = 20_000


def parse_arguments():
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--threads",
        type=int,
        choices=(1, 2),
        default=1,
        help="threads of BLAS, OpenMP and PyTorch (default 1)",
    )
    parser.add_argument(
        "--envs",
        type=int,
        nargs="+",
        default=[1, 8],
        help="environment counts of the DummyVecEnv, one training run each (default 1 8)",
    )
    parser.add_argument(
        "--total-timesteps",
        type=int,
        default=20_000,
        help="environment steps requested from model.learn; SB3 finishes the current "
        "rollout of n_steps x envs steps, so it may run more (default 20000)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    parser.add_argument(
        "--check",
        action="store_true",
        help="instead of training, run gymnasium's environment checker and compare one "
        "patient's AUC under a fixed regimen with solve_ivp",
    )
    arguments = parser.parse_args()
    for count in arguments.envs:
        if count < 1:
            parser.error(f"invalid --envs value {count}: expected 1 or more")
    if arguments.total_timesteps < 1:
        parser.error(f"invalid --total-timesteps {arguments.total_timesteps}: expected 1 or more")
    return arguments


def check_environment(seed):
    """Check the environment's API and its PK stepping; return a report."""
    from gymnasium.utils.env_checker import check_env

    import pk_reference
    import vancomycin_workload as workload
    from vancomycin_gym import VancomycinDosingEnv

    environment = VancomycinDosingEnv()
    check_env(environment, skip_render_check=True)
    patients = workload.sample_patients(1, seed)
    patient = {name: float(values[0]) for name, values in patients.items()}
    environment.reset(seed=seed, options={"patient": patient})
    states = []
    for level in pk_reference.CHECK_DOSE_LEVELS:
        environment.step(level)
        states.append(environment.amounts)
    import numpy as np

    comparison = pk_reference.compare_with_reference(patient, np.array(states))
    return {"gymnasium_env_checker": "passed", "pk_reference": comparison}


class RolloutTimer:
    """SB3 callback factory that times rollout collection."""

    @staticmethod
    def create():
        from stable_baselines3.common.callbacks import BaseCallback

        class _RolloutTimer(BaseCallback):
            def __init__(self):
                super().__init__()
                self.collection_seconds = 0.0
                self._started = None

            def _on_rollout_start(self):
                self._started = time.perf_counter()

            def _on_rollout_end(self):
                self.collection_seconds += time.perf_counter() - self._started

            def _on_step(self):
                return True

        return _RolloutTimer()


def environment_only_steps_per_second(environments, steps, seed):
    """Step a vector env with random actions and return its steps per second."""
    import numpy as np

    generator = np.random.default_rng(seed)
    environments.reset()
    count = environments.num_envs
    actions = generator.integers(0, 13, (steps // count, count))
    start = time.perf_counter()
    for row in actions:
        environments.step(row)
    return actions.size / (time.perf_counter() - start)


def train_once(environment_count, arguments):
    """Train PPO on `environment_count` environments; return its report."""
    import numpy as np
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import DummyVecEnv

    from vancomycin_gym import VancomycinDosingEnv

    environments = make_vec_env(
        VancomycinDosingEnv, n_envs=environment_count, seed=arguments.seed, vec_env_cls=DummyVecEnv
    )
    environment_steps_per_second = environment_only_steps_per_second(
        environments, ENVIRONMENT_ONLY_STEPS, arguments.seed
    )
    model = PPO(
        "MlpPolicy",
        environments,
        n_steps=N_STEPS,
        batch_size=BATCH_SIZE,
        n_epochs=N_EPOCHS,
        learning_rate=LEARNING_RATE,
        gamma=GAMMA,
        gae_lambda=GAE_LAMBDA,
        clip_range=CLIP_RANGE,
        policy_kwargs={
            "net_arch": {"pi": HIDDEN_SIZES, "vf": HIDDEN_SIZES},
            "activation_fn": torch.nn.Tanh,
        },
        device="cpu",
        seed=arguments.seed,
        verbose=0,
    )
    timer = RolloutTimer.create()
    start = time.perf_counter()
    model.learn(total_timesteps=arguments.total_timesteps, callback=timer)
    learn_seconds = time.perf_counter() - start
    episode_returns = [info["r"] for info in model.ep_info_buffer]
    optimizer = model.policy.optimizer
    return {
        "envs": environment_count,
        "sb3_defaults_in_use": {
            "ent_coef": model.ent_coef,
            "vf_coef": model.vf_coef,
            "max_grad_norm": model.max_grad_norm,
            "normalize_advantage": model.normalize_advantage,
            "ortho_init": model.policy.ortho_init,
            "optimizer": type(optimizer).__name__,
            "optimizer_eps": optimizer.defaults.get("eps"),
        },
        "rollout_steps": N_STEPS * environment_count,
        "timesteps": model.num_timesteps,
        "learn_seconds": learn_seconds,
        "steps_per_second": model.num_timesteps / learn_seconds,
        "rollout_collection_seconds": timer.collection_seconds,
        "update_seconds": learn_seconds - timer.collection_seconds,
        "environment_only_steps_per_second": environment_steps_per_second,
        "mean_return_last_100_episodes": float(np.mean(episode_returns)),
        "peak_resident_mebibytes_so_far": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        / 1024.0,
    }


def main():
    arguments = parse_arguments()
    limit_threads(arguments.threads)
    # Imported after the thread limit, because OpenMP and MKL read it on load.
    import torch

    limit_torch_threads(torch, arguments.threads)
    import gymnasium
    import stable_baselines3

    report = {
        "program": "train_sb3.py",
        "versions": {
            "stable_baselines3": stable_baselines3.__version__,
            "torch": torch.__version__,
            "gymnasium": gymnasium.__version__,
        },
        "python": platform.python_version(),
        "threads": arguments.threads,
        "seed": arguments.seed,
    }
    if arguments.check:
        report["check"] = check_environment(arguments.seed)
        json.dump(report, sys.stdout, indent=2)
        print()
        return 0 if report["check"]["pk_reference"]["passed"] else 1

    report["hyperparameters"] = {
        "n_steps_per_env": N_STEPS,
        "batch_size": BATCH_SIZE,
        "n_epochs": N_EPOCHS,
        "learning_rate": LEARNING_RATE,
        "gamma": GAMMA,
        "gae_lambda": GAE_LAMBDA,
        "clip_range": CLIP_RANGE,
        "net_arch": {"pi": HIDDEN_SIZES, "vf": HIDDEN_SIZES},
        "activation": "tanh",
    }
    report["total_timesteps_requested"] = arguments.total_timesteps
    report["runs"] = [train_once(count, arguments) for count in arguments.envs]
    report["peak_resident_mebibytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    json.dump(report, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
