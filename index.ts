// The Pulumi program: wired in components/ (see the Pulumi program issue). Placeholder until then.
export {};
