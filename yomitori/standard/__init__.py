"""Standard files in and out: export profiles (the national 315 record layout and others), electronic submissions
read into a batch, and the reconciliation lists (入力確認票, 異動者リスト)."""
