// The fake `flowtrace:plugin/types@0.1.0`: the SDK imports only its types.
export {};
